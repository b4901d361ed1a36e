import VirtsyncCore
import Yams

extension DocumentDecoder {
    static let cloudInitKeys = KeySet(["userData", "userDataFile", "userDataSecret", "metaData", "metaDataFile", "metaDataSecret",
                                       "networkConfig", "networkConfigFile", "networkConfigSecret", "pool"])

    func decodeCloudInit(_ map: MapReader) -> CloudInitSpec {
        var spec = CloudInitSpec(path: map.path, location: map.location)
        spec.userData = readContent(map, inline: "userData", file: "userDataFile", mappingHeader: "#cloud-config\n")
        spec.metaData = readContent(map, inline: "metaData", file: "metaDataFile", mappingHeader: "")
        spec.networkConfig = readContent(map, inline: "networkConfig", file: "networkConfigFile", mappingHeader: "")
        spec.pool = readNameRef(map, "pool")
        return spec
    }

    /// One cloud-init file: inline text, an inline mapping (written out as YAML after
    /// `mappingHeader`), a file of the spec directory, or a secret (`…Secret: NAME`).
    private func readContent(_ map: MapReader, inline: String, file fileKey: String, mappingHeader: String) -> CloudInitContent? {
        let secretKey = inline + "Secret"
        let given = [inline, fileKey, secretKey].filter { map.has($0) }
        if given.count > 1 {
            reporter.error(map.keyLocation(given[1]), map.keyPath(given[1]), "\(given.map { "'\($0)'" }.joined(separator: given.count == 2 ? " and " : ", ")) are mutually exclusive")
            return nil
        }
        if map.has(secretKey) { return readNameRef(map, secretKey).map { .secret($0) } }
        if let node = map.node(inline) {
            switch NodeValue(node) {
            case .mapping:
                do {
                    return .inline(mappingHeader + (try Yams.serialize(node: node)), at: node.location(in: file))
                } catch {
                    reporter.error(node.location(in: file), map.keyPath(inline), "cannot write this mapping as YAML: \(error)")
                    return nil
                }
            case .string(let text):
                return .inline(text, at: node.location(in: file))
            default:
                map.typeError(inline, expected: "text or a mapping", got: node)
                return nil
            }
        }
        guard let path = map.string(fileKey) else { return nil }
        guard let normalized = Self.relativePath(path.value) else {
            reporter.error(path.location, map.keyPath(fileKey),
                           "\(path.value.quotedForMessage) must be a path relative to the spec directory, without '..'")
            return nil
        }
        guard filePaths.contains(normalized) else {
            reporter.error(path.location, map.keyPath(fileKey), "file '\(normalized)' is not in the spec directory")
            return nil
        }
        return .file(Located(normalized, path.location))
    }

    /// `a/./b` → `a/b`; nil for absolute paths, `..` components, control characters or nothing.
    static func relativePath(_ path: String) -> String? {
        guard !path.hasPrefix("/"),
              !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { return nil }
        return parts.joined(separator: "/")
    }
}
