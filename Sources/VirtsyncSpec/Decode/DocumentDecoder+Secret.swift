import VirtsyncCore
import Yams

extension DocumentDecoder {
    static let secretKeys = KeySet(["apiVersion", "kind", "name", "ageFile", "hostFile"])
    static let graphicsKeys = KeySet(["type", "passwordSecret", "listen"])

    /// kind: Secret: a name and where its value is kept, never the value.
    func decodeSecret(_ map: MapReader, header: DocumentHeader) -> SecretSpec {
        var header = header
        header.name = readName(map)
        var spec = SecretSpec(header: header)
        if map.has("ageFile"), map.has("hostFile") {
            reporter.error(map.keyLocation("hostFile"), map.keyPath("hostFile"), "'ageFile' and 'hostFile' are mutually exclusive")
            return spec
        }
        if let path = map.string("ageFile") {
            guard let normalized = Self.relativePath(path.value) else {
                reporter.error(path.location, map.keyPath("ageFile"),
                               "\(path.value.quotedForMessage) must be a path relative to the spec directory, without '..'")
                return spec
            }
            guard filePaths.contains(normalized) else {
                reporter.error(path.location, map.keyPath("ageFile"), "file '\(normalized)' is not in the spec directory")
                return spec
            }
            if normalized.hasSuffix(".yaml") || normalized.hasSuffix(".yml") {
                reporter.error(path.location, map.keyPath("ageFile"), "an age-encrypted file cannot end in .yaml or .yml (those are read as spec documents)")
                return spec
            }
            spec.ageFile = Located(normalized, path.location)
        } else if let path = map.string("hostFile") {
            guard let normalized = Self.relativePath(path.value) else {
                reporter.error(path.location, map.keyPath("hostFile"),
                               "\(path.value.quotedForMessage) must be a path relative to the host's secrets directory, without '..'")
                return spec
            }
            spec.hostFile = Located(normalized, path.location)
        } else {
            reporter.error(map.location, header.path, "a Secret needs 'ageFile' (an age-encrypted file of the spec) or 'hostFile' (a file under the host's secrets directory)")
        }
        return spec
    }

    /// `graphics: vnc`, or `graphics: {type: vnc, passwordSecret: NAME}`.
    func decodeGraphics(_ map: MapReader, into vm: inout MachineSpec) {
        guard let node = map.node("graphics") else { return }
        guard case .mapping = node else {
            vm.graphics = map.choice("graphics", GraphicsType.allCases)?.value
            return
        }
        guard let graphics = map.map("graphics", keys: Self.graphicsKeys) else { return }
        vm.graphics = graphics.choice("type", GraphicsType.allCases, required: true)?.value
        vm.graphicsPassword = readNameRef(graphics, "passwordSecret")
        if let password = vm.graphicsPassword, vm.graphics == GraphicsType.none {
            reporter.error(password.location, graphics.keyPath("passwordSecret"), "a password needs a display: type vnc or spice")
        }
        vm.graphicsListen = readListenAddress(graphics, display: vm.graphics)
    }
}
