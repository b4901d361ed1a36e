import Crypto

/// A secret's bytes, once read on the host that needs them. Never printed, dumped, encoded or
/// compared: every description is `<redacted>`, and models that hold one compare and encode
/// its keyed digest instead.
public struct SecretBytes: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The plaintext. Read it only to hand it to libvirt or into a seed image.
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A secret used by a resource: its name in the spec and the keyed digest of its value (what
/// plans, markers and comparisons see), and the value itself once resolved on the host.
///
/// Equality, hashing and coding cover the name and digest only, so a plan saved to a file (which
/// never holds the value) equals the fresh plan it is checked against, and the fresh one runs.
public struct SecretMaterial: Hashable, Codable, Sendable, CustomStringConvertible {
    public var name: String
    /// `SecretDigest.keyed` of the value.
    public var digest: String
    /// The value; `nil` in a plan read back from a file.
    public var value: SecretBytes?

    public init(name: String, digest: String, value: SecretBytes? = nil) {
        self.name = name
        self.digest = digest
        self.value = value
    }

    private enum CodingKeys: String, CodingKey { case name, digest }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        digest = try c.decode(String.self, forKey: .digest)
        value = nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(digest, forKey: .digest)
    }

    public static func == (a: SecretMaterial, b: SecretMaterial) -> Bool { a.name == b.name && a.digest == b.digest }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(digest)
    }

    /// How plans and markers show it: `secret NAME (digest 0123456789abcdef)`.
    public var description: String { "secret \(name) (digest \(digest.prefix(16)))" }
    /// What the ownership marker records: `NAME:DIGEST`.
    public var markerValue: String { "\(name):\(digest)" }
}

/// Keyed digests of secret values: HMAC-SHA256 under the cluster's digest key, so that a plan
/// shows that a value changed without letting anyone who reads it test guesses of the value.
public enum SecretDigest {
    /// Lower-case hex HMAC-SHA256 of `value` under `key`.
    public static func keyed(_ value: [UInt8], key: [UInt8]) -> String {
        Digest.hex(HMAC<SHA256>.authenticationCode(for: value, using: SymmetricKey(data: key)))
    }
}

/// Where a secret's value is kept.
public enum SecretSource: Hashable, Codable, Sendable, CustomStringConvertible {
    /// An age-encrypted file of the spec (`ageFile`), decrypted on the host with its identity.
    case age(path: String)
    /// A file under the host's secrets directory (`hostFile`).
    case host(path: String)

    public var description: String {
        switch self {
        case .age(let path): return "age file \(path)"
        case .host(let path): return "host file \(path)"
        }
    }
}

/// A `kind: Secret` document: a name, where the value is kept, and where it was declared.
public struct SecretReference: Hashable, Codable, Sendable {
    public var name: String
    public var source: SecretSource
    /// `file:line` of the declaring document, for errors.
    public var declaredAt: String
    /// The encrypted bytes of an `ageFile` (public: they are in git); empty for host files.
    public var ciphertext: [UInt8]

    public init(name: String, source: SecretSource, declaredAt: String, ciphertext: [UInt8] = []) {
        self.name = name
        self.source = source
        self.declaredAt = declaredAt
        self.ciphertext = ciphertext
    }
}

/// A resource the plan leaves exactly as it is, with the reason: a VM whose secrets could not
/// be read on this host. No step touches it (not even pruning), and the plan reports it as an
/// error.
public struct HeldResource: Hashable, Codable, Sendable {
    /// The reason of a hold the loader puts on what waits for secrets, which binding lifts.
    public static let pendingReason = "its secrets have not been read on this host"

    public var kind: ResourceKind
    public var name: String
    public var reason: String

    public init(kind: ResourceKind, name: String, reason: String) {
        self.kind = kind
        self.name = name
        self.reason = reason
    }
}

/// One place a VM uses a secret: the secret's name, and the field and `file:line` that name it.
public struct SecretUse: Hashable, Codable, Sendable {
    public var name: String
    /// Key path in spec terms, e.g. `VirtualMachine[web-1].graphics.passwordSecret`.
    public var field: String
    /// `file:line` of the use.
    public var location: String
    /// The value goes into a line of text (a placeholder, a password, a passphrase): one final
    /// line break of the file it was kept in (`echo pw > file`) is not part of it.
    public var inline: Bool

    public init(name: String, field: String, location: String, inline: Bool = false) {
        self.name = name
        self.field = field
        self.location = location
        self.inline = inline
    }

    /// The value as this use takes it.
    public func taking(_ value: SecretBytes) -> SecretBytes {
        guard inline else { return value }
        var bytes = value.bytes
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        return SecretBytes(bytes)
    }
}

/// A piece of a seed file: plain text from the spec, or a secret's value.
public enum SeedPart: Hashable, Codable, Sendable {
    case text([UInt8])
    case secret(SecretUse)
}

/// A cloud-init seed that holds secrets: built on the host once they are read.
public struct SeedRecipe: Hashable, Codable, Sendable {
    public struct File: Hashable, Codable, Sendable {
        /// `meta-data`, `network-config` or `user-data`.
        public var name: String
        public var parts: [SeedPart]

        public init(name: String, parts: [SeedPart]) {
            self.name = name
            self.parts = parts
        }
    }

    public var pool: String
    /// The files in the order they are written into the image.
    public var files: [File]

    public init(pool: String, files: [File]) {
        self.pool = pool
        self.files = files
    }

    /// Every secret the seed uses, in order of appearance.
    public var uses: [SecretUse] {
        files.flatMap { $0.parts }.compactMap { if case .secret(let use) = $0 { return use } else { return nil } }
    }
}

/// What a VM of the spec still needs from the host's secrets before it can be planned: until
/// they are bound (`SecretBinder`), the VM is held.
public struct PendingSecrets: Hashable, Codable, Sendable {
    public var machine: String
    public var graphicsPassword: SecretUse?
    public var seed: SeedRecipe?

    public init(machine: String, graphicsPassword: SecretUse? = nil, seed: SeedRecipe? = nil) {
        self.machine = machine
        self.graphicsPassword = graphicsPassword
        self.seed = seed
    }

    /// Every secret the VM uses.
    public var uses: [SecretUse] { (graphicsPassword.map { [$0] } ?? []) + (seed?.uses ?? []) }
}

extension SecretMaterial {
    /// Reads back `markerValue` (`NAME:DIGEST`); nil when it is not of that form.
    public init?(markerValue: String) {
        guard let colon = markerValue.lastIndex(of: ":") else { return nil }
        let name = String(markerValue[..<colon]), digest = String(markerValue[markerValue.index(after: colon)...])
        guard !name.isEmpty, !digest.isEmpty else { return nil }
        self.init(name: name, digest: digest)
    }
}

/// Why a secret could not be read on this host: a fixed message that never holds the value
/// (nor anything a tool printed about it).
public struct SecretProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
