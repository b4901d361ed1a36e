/// What a libvirt secret object is for, as libvirt's `<usage>` says it.
public enum SecretUsage: Hashable, Codable, Sendable {
    /// The passphrase of a LUKS volume at `path` (`<usage type='volume'>`).
    case volume(path: String)
    /// An object the escape hatch names (`((secret-uuid:NAME:TYPE))`): libvirt's usage type
    /// (`vtpm`, `ceph`, `iscsi`, `tls`) and the usage id virtsync gives it.
    case named(type: String, id: String)

    /// The escape hatch's usage types.
    public static let namedTypes = ["vtpm", "ceph", "iscsi", "tls"]

    /// Whether a new value may replace the old one: not for what encrypts data at rest (a LUKS
    /// volume, an emulated TPM's state), which would no longer open.
    public var canChangeValue: Bool {
        switch self {
        case .volume: return false
        case .named(let type, _): return type != "vtpm"
        }
    }
}

/// A libvirt secret object virtsync keeps: private (libvirt never shows its value), persistent,
/// with virtsync's marker in its description. One per consumer: an encrypted volume
/// (`pool/volume`), a VM's escape hatch or network disk (`DOMAIN:SECRET:TYPE`), or a pool's
/// authentication (`pool(NAME):TYPE`).
public struct SecretObjectModel: Hashable, Codable, Sendable {
    public var uuid: String
    /// What uses it: `pool/volume`, `DOMAIN:SECRET:TYPE` or `pool(NAME):TYPE`. The object's
    /// resource name in plans.
    public var consumer: String
    public var usage: SecretUsage
    /// The spec's secret: name, keyed digest, and the value once read.
    public var secret: SecretMaterial
    /// The spec source that owns it, written into its marker (set by the planner).
    public var owner: String?

    public init(uuid: String, consumer: String, usage: SecretUsage, secret: SecretMaterial, owner: String? = nil) {
        self.uuid = uuid
        self.consumer = consumer
        self.usage = usage
        self.secret = secret
        self.owner = owner
    }

    /// The object's UUID for a consumer: the same on every host and in every run, so the volume,
    /// the disks and the XML that name it can do so before it exists.
    public static func uuid(consumer: String) -> String {
        let hex = Array(Digest.sha256Hex(Array("virtsync secret object\u{0}\(consumer)".utf8)).prefix(32))
        func part(_ range: Range<Int>) -> String { String(hex[range]) }
        return "\(part(0..<8))-\(part(8..<12))-8\(part(13..<16))-a\(part(17..<20))-\(part(20..<32))"
    }

    /// The consumer of a VM's escape-hatch object.
    public static func consumer(domain: String, secret: String, type: String) -> String { "\(domain):\(secret):\(type)" }

    /// The consumer of a pool's authentication object: `pool(NAME):TYPE`. The parentheses
    /// cannot appear in a VM's or a pool's name, so it can be read neither as a VM's
    /// `DOMAIN:SECRET:TYPE` (a VM may be called `pool`) nor as a volume's `pool/volume`.
    public static func consumer(pool: String, type: String) -> String { "pool(\(pool)):\(type)" }

    /// The pool of a pool's consumer (`pool(NAME):TYPE`); nil for any other.
    public static func pool(ofConsumer consumer: String) -> String? {
        guard consumer.hasPrefix("pool("), let close = consumer.firstIndex(of: ")"),
              consumer[consumer.index(after: close)...].hasPrefix(":") else { return nil }
        return String(consumer[consumer.index(consumer.startIndex, offsetBy: 5)..<close])
    }

    /// The VM of an escape-hatch consumer (`DOMAIN:SECRET:TYPE`); nil for a volume's and a pool's.
    public static func domain(ofConsumer consumer: String) -> String? {
        guard pool(ofConsumer: consumer) == nil, let colon = consumer.firstIndex(of: ":") else { return nil }
        return String(consumer[..<colon])
    }

    /// The marker virtsync writes into the object's description.
    public var marker: String {
        "virtsync secret=\(secret.name) digest=\(secret.digest) for=\(consumer)" + (owner.map { " owner=\($0)" } ?? "")
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
        /// `pool/volume`, `DOMAIN:SECRET:TYPE` or `pool(NAME):TYPE`.
        public var consumer: String
        public var owner: String?

        public init(secret: String, digest: String, consumer: String, owner: String?) {
            self.secret = secret
            self.digest = digest
            self.consumer = consumer
            self.owner = owner
        }

        /// Reads `SecretObjectModel.marker` back; nil for any other text.
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
            guard let secret = fields["secret"], let digest = fields["digest"], let consumer = fields["for"] else { return nil }
            self.init(secret: secret, digest: digest, consumer: consumer, owner: owner)
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
