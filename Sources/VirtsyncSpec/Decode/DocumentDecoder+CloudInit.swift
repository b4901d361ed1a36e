import VirtsyncCore
import Yams

extension DocumentDecoder {
    static let cloudInitKeys = KeySet(["userData", "userDataFile", "metaData", "metaDataFile", "networkConfig",
                                       "networkConfigFile", "pool"])

    func decodeCloudInit(_ map: MapReader) -> CloudInitSpec {
        var spec = CloudInitSpec(path: map.path, location: map.location)
        spec.userData = readContent(map, inline: "userData", file: "userDataFile", mappingHeader: "#cloud-config\n")
        spec.metaData = readContent(map, inline: "metaData", file: "metaDataFile", mappingHeader: "")
        spec.networkConfig = readContent(map, inline: "networkConfig", file: "networkConfigFile", mappingHeader: "")
        spec.pool = readNameRef(map, "pool")
        return spec
    }

    /// One cloud-init file: inline text, an inline mapping (written out as YAML after
    /// `mappingHeader`), or a file of the spec directory.
    private func readContent(_ map: MapReader, inline: String, file fileKey: String, mappingHeader: String) -> CloudInitContent? {
        if map.has(inline), map.has(fileKey) {
            reporter.error(map.keyLocation(fileKey), map.keyPath(fileKey), "'\(inline)' and '\(fileKey)' are mutually exclusive")
            return nil
        }
        if let node = map.node(inline) {
            switch NodeValue(node) {
            case .mapping:
                do {
                    return .inline(mappingHeader + (try Yams.serialize(node: node)))
                } catch {
                    reporter.error(node.location(in: file), map.keyPath(inline), "cannot write this mapping as YAML: \(error)")
                    return nil
                }
            case .string(let text):
                return .inline(text)
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
