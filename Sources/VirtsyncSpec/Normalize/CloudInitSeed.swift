import VirtsyncCore
import VirtsyncISO

/// Builds a VM's cloud-init NoCloud seed: an ISO 9660 image labelled `cidata` holding
/// `meta-data`, `user-data` and, when given, `network-config`.
enum CloudInitSeed {
    /// User data when the spec gives none: an empty cloud-config.
    static let defaultUserData = "#cloud-config\n"

    /// Meta data when the spec gives none.
    static func defaultMetaData(machine: String) -> String {
        "instance-id: \(machine)\nlocal-hostname: \(machine)\n"
    }

    /// The seed volume: named after the VM and its content's digest, so a change of content is
    /// a new volume and a running VM's CD-ROM is never rewritten underneath it.
    static func volume(machine: String, spec: CloudInitSpec, pool: String, files: [String: SpecFile]) -> VolumeModel {
        func bytes(_ content: CloudInitContent?) -> [UInt8]? {
            switch content {
            case .inline(let text): return Array(text.utf8)
            case .file(let path): return files[path.value]?.bytes
            case nil: return nil
            }
        }
        var entries: [(name: String, bytes: [UInt8])] = [
            ("meta-data", bytes(spec.metaData) ?? Array(defaultMetaData(machine: machine).utf8)),
        ]
        if let network = bytes(spec.networkConfig) { entries.append(("network-config", network)) }
        entries.append(("user-data", bytes(spec.userData) ?? Array(defaultUserData.utf8)))
        let image = ISO9660.image(volumeID: "cidata", files: entries)
        let digest = Digest.sha256Hex(image)
        return VolumeModel(pool: pool, name: "\(machine)-cidata-\(digest.prefix(8)).iso",
                           capacity: ByteSize(bytes: UInt64(image.count)), format: .iso,
                           source: .generated(digest: digest), content: image)
    }
}
