import VirtsyncCore

/// Reads secrets on the host that needs them: host files under the secrets directory and
/// age-encrypted files of the spec, and the cluster's digest key.
///
/// Failures are values, one per secret, so that a VM whose secret is missing is held while the
/// rest of the plan proceeds. A failure's message never holds the value, nor anything a tool
/// printed about it (age quotes the first line of a file it cannot read).
public protocol SecretReader: Sendable {
    /// The value of each reference, by the secret's name.
    func read(_ references: [SecretReference]) async -> [String: Result<SecretBytes, SecretProblem>]
    /// The key of `SecretDigest.keyed`, the same on every host of a cluster.
    func digestKey() async -> Result<[UInt8], SecretProblem>
}

/// A reader for hosts with no secrets configured: every secret is a problem, with `reason`.
public struct NoSecrets: SecretReader {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public func read(_ references: [SecretReference]) async -> [String: Result<SecretBytes, SecretProblem>] {
        Dictionary(references.map { ($0.name, .failure(SecretProblem(reason))) }, uniquingKeysWith: { a, _ in a })
    }
    public func digestKey() async -> Result<[UInt8], SecretProblem> { .failure(SecretProblem(reason)) }
}

/// The reader of review plans (`plan --base --head`), which read no host and no secret: each
/// secret stands in as what the commit shows of it (an age file's ciphertext, a host file's
/// path), under a fixed key. A secret then shows as changed when its encrypted file or its path
/// changed between the commits, and never by a digest of its value.
public struct ReviewSecrets: SecretReader {
    public init() {}

    public func read(_ references: [SecretReference]) async -> [String: Result<SecretBytes, SecretProblem>] {
        Dictionary(references.map { reference in
            switch reference.source {
            case .age: return (reference.name, .success(SecretBytes(reference.ciphertext)))
            case .host(let path): return (reference.name, .success(SecretBytes(Array("host file \(path)".utf8))))
            }
        }, uniquingKeysWith: { a, _ in a })
    }

    public func digestKey() async -> Result<[UInt8], SecretProblem> { .success(Array("virtsync review plan: no secret read".utf8)) }
}
