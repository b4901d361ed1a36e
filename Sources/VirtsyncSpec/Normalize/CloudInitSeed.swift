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

    /// Name of the seed volume until its secrets are read (never created: the VM is held).
    static func pendingName(machine: String) -> String { "\(machine)-cidata-pending.iso" }

    /// What goes into the seed: each file's text and secrets, in image order.
    static func recipe(machine: String, spec: CloudInitSpec, pool: String, files: [String: SpecFile]) -> SeedRecipe {
        func parts(_ content: CloudInitContent?, field: String) -> [SeedPart]? {
            let path = "\(spec.path).\(field)"
            switch content {
            case .inline(let text, let at):
                return template(Array(text.utf8), field: path, at: at, file: at.file)
            case .file(let located):
                return template(files[located.value]?.bytes ?? [], field: path, at: nil, file: located.value)
            case .secret(let name):
                return [.secret(SecretUse(name: name.value, field: path + "Secret", location: "\(name.location.file):\(name.location.line)"))]
            case nil:
                return nil
            }
        }
        var out = [SeedRecipe.File(name: "meta-data", parts: parts(spec.metaData, field: "metaData")
                                   ?? [.text(Array(defaultMetaData(machine: machine).utf8))])]
        if let network = parts(spec.networkConfig, field: "networkConfig") { out.append(SeedRecipe.File(name: "network-config", parts: network)) }
        out.append(SeedRecipe.File(name: "user-data", parts: parts(spec.userData, field: "userData") ?? [.text(Array(defaultUserData.utf8))]))
        return SeedRecipe(pool: pool, files: out)
    }

    private static func template(_ bytes: [UInt8], field: String, at: SourceLocation?, file: String) -> [SeedPart] {
        SecretTemplate.split(bytes).pieces.map { piece in
            switch piece {
            case .text(let text): return .text(text)
            case .secret(let name, let line):
                let location = SecretTemplate.location(line: line, of: bytes, at: at, file: file)
                return .secret(SecretUse(name: name, field: field, location: "\(location.file):\(location.line)", inline: true))
            }
        }
    }

    /// The seed volume: named after the VM and its content's digest, so a change of content is
    /// a new volume and a running VM's CD-ROM is never rewritten underneath it. A seed that holds
    /// secrets is named by the keyed digest of its image (`values` holds them, `key` is the
    /// cluster's digest key), so neither the plan nor the name lets anyone test a guess.
    static func volume(machine: String, recipe: SeedRecipe, values: [String: SecretBytes] = [:], key: [UInt8]? = nil) -> VolumeModel {
        var entries: [(name: String, bytes: [UInt8])] = []
        for file in recipe.files {
            var bytes: [UInt8] = []
            for part in file.parts {
                switch part {
                case .text(let text): bytes += text
                case .secret(let use): bytes += values[use.name].map(use.taking)?.bytes ?? []
                }
            }
            entries.append((file.name, bytes))
        }
        let image = ISO9660.image(volumeID: "cidata", files: entries)
        let digest = recipe.uses.isEmpty || key == nil ? Digest.sha256Hex(image) : SecretDigest.keyed(image, key: key ?? [])
        return VolumeModel(pool: recipe.pool, name: "\(machine)-cidata-\(digest.prefix(8)).iso",
                           capacity: ByteSize(bytes: UInt64(image.count)), format: .iso,
                           source: .generated(digest: digest), content: image)
    }
}
