/// A libvirt secret object virtsync keeps for an encrypted volume: private (libvirt never shows
/// its value), usage `volume` with the volume's path, and virtsync's marker in its description.
public struct SecretObjectModel: Hashable, Codable, Sendable {
    public var uuid: String
    /// The encrypted volume, `pool/volume`: the object's resource name in plans.
    public var volume: String
    /// The volume's path on the host (the object's usage).
    public var path: String
    /// The spec's secret: name, keyed digest, and the value once read.
    public var secret: SecretMaterial
    /// The spec source that owns it, written into its marker (set by the planner).
    public var owner: String?

    public init(uuid: String, volume: String, path: String, secret: SecretMaterial, owner: String? = nil) {
        self.owner = owner
        self.uuid = uuid
        self.volume = volume
        self.path = path
        self.secret = secret
    }

    /// The object's UUID for a volume: the same on every host and in every run, derived from
    /// the volume's name, so the volume and the disks that open it can name it before it exists.
    public static func uuid(volume: String) -> String {
        let hex = Array(Digest.sha256Hex(Array("virtsync secret object\u{0}\(volume)".utf8)).prefix(32))
        func part(_ range: Range<Int>) -> String { String(hex[range]) }
        return "\(part(0..<8))-\(part(8..<12))-8\(part(13..<16))-a\(part(17..<20))-\(part(20..<32))"
    }

    /// The marker virtsync writes into the object's description.
    public var marker: String {
        "virtsync secret=\(secret.name) digest=\(secret.digest) volume=\(volume)" + (owner.map { " owner=\($0)" } ?? "")
    }
}

/// A secret object found on a host.
public struct ObservedSecretObject: Hashable, Codable, Sendable {
    public var uuid: String
    /// The path of `<usage type='volume'>`, when it has one.
    public var usageVolume: String?
    /// virtsync's marker, parsed from the description; nil for an object virtsync did not make.
    public var marker: Marker?

    public struct Marker: Hashable, Codable, Sendable {
        public var secret: String
        public var digest: String
        public var volume: String
        public var owner: String?

        public init(secret: String, digest: String, volume: String, owner: String?) {
            self.secret = secret
            self.digest = digest
            self.volume = volume
            self.owner = owner
        }

        /// Reads `SecretObjectModel.description(owner:)` back; nil for any other text.
        public init?(description: String) {
            guard description.hasPrefix("virtsync ") else { return nil }
            // The owner comes last and may hold spaces.
            var text = Substring(description.dropFirst("virtsync ".count))
            var owner: String?
            if let range = text.range(of: " owner=") {
                owner = String(text[range.upperBound...])
                text = text[..<range.lowerBound]
            }
            var fields: [String: String] = [:]
            for part in text.split(separator: " ") {
                guard let equals = part.firstIndex(of: "=") else { return nil }
                fields[String(part[..<equals])] = String(part[part.index(after: equals)...])
            }
            guard let secret = fields["secret"], let digest = fields["digest"], let volume = fields["volume"] else { return nil }
            self.init(secret: secret, digest: digest, volume: volume, owner: owner)
        }
    }

    public init(uuid: String, usageVolume: String?, marker: Marker?) {
        self.uuid = uuid
        self.usageVolume = usageVolume
        self.marker = marker
    }

    /// Who holds this object, seen from `owner`.
    public func claim(by owner: String?) -> Claim { Claim.of(managed: marker != nil, recordedOwner: marker?.owner, by: owner) }
}
