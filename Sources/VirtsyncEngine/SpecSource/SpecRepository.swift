import VirtsyncCore

/// A git failure, classified so that callers can tell the remote's fault from the cache's.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The remote could not be reached, refused us, or misbehaved (network, TLS, SSH, HTTP).
        case remote
        /// Credentials were refused or none fit.
        case authentication
        /// The host key or certificate did not check out.
        case hostVerification
        /// A ref or commit does not exist.
        case notFound
        /// History was rewritten (the last applied commit is not an ancestor).
        case rewritten
        /// The local cache is damaged (objects, refs, config).
        case cache
        /// A deadline passed.
        case timeout
        /// Anything else, including bad input.
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A full git commit id (40 lower-case hex digits).
public struct CommitID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let hex: String

    /// Accepts exactly 40 hex digits (either case); nil otherwise.
    public init?(_ text: String) {
        guard text.utf8.count == 40, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) else {
            return nil
        }
        hex = text.lowercased()
    }

    /// The first 12 digits, as plans show them.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = CommitID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a commit id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// What a plan shows about a commit.
public struct CommitInfo: Hashable, Sendable {
    public var id: CommitID
    /// First line of the message.
    public var summary: String
    public var authorName: String
    public var authorEmail: String
    /// Committer time, seconds since the epoch (UTC).
    public var time: Int64
    public var parents: [CommitID]

    public init(id: CommitID, summary: String, authorName: String, authorEmail: String, time: Int64, parents: [CommitID]) {
        self.id = id
        self.summary = summary
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.time = time
        self.parents = parents
    }
}

/// A commit's signature (the `gpgsig` header) and the bytes it signs.
public struct CommitSignature: Hashable, Sendable {
    /// The armored signature, e.g. `-----BEGIN SSH SIGNATURE-----` …
    public var signature: String
    /// The commit object without its signature header: what was signed.
    public var payload: [UInt8]

    public init(signature: String, payload: [UInt8]) {
        self.signature = signature
        self.payload = payload
    }

    /// `true` for an OpenSSH signature (`gpg.format=ssh`).
    public var isSSH: Bool { signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") }
}

/// What a fetch changed in the cache.
public struct FetchSummary: Hashable, Sendable {
    /// Objects received (0 when nothing changed).
    public var receivedObjects: Int
    /// The cache was damaged and made again before this fetch.
    public var rebuiltCache: Bool

    public init(receivedObjects: Int = 0, rebuiltCache: Bool = false) {
        self.receivedObjects = receivedObjects
        self.rebuiltCache = rebuiltCache
    }
}

/// The spec source port for git: a local cache of a remote repository. Implemented over
/// libgit2 by `VirtsyncGit`; nothing else in the program sees git.
///
/// Calls block; one caller at a time.
public protocol SpecRepository: AnyObject, Sendable {
    /// The remote's URL as it may be shown (no credentials).
    var displayURL: String { get }

    /// Brings the cache up to date with the remote (branches, tags, the remote's HEAD;
    /// branches deleted on the remote are deleted from the cache).
    func fetch() throws -> FetchSummary

    /// Throws the cache away and fetches everything again (after damage was detected).
    func rebuild() throws -> FetchSummary

    /// The commit a branch, tag or commit id names; `nil` means the remote's default branch.
    func resolve(_ ref: String?) throws -> CommitID

    func info(_ commit: CommitID) throws -> CommitInfo

    /// The files of the spec directory `path` (relative to the repository root; `""` or `.`
    /// for the root) in `commit`'s tree, paths relative to that directory, with problems
    /// (symbolic links, submodules, huge or binary files) as diagnostics.
    func files(at commit: CommitID, path: String) throws -> ([SpecFile], Diagnostics)

    /// Whether `commit` is `ancestor` or one of its descendants.
    func contains(_ commit: CommitID, ancestor: CommitID) throws -> Bool

    /// Whether the cache holds `commit` at all (a rewritten commit may be gone).
    func has(_ commit: CommitID) -> Bool

    /// The newest common ancestor, if any.
    func mergeBase(_ a: CommitID, _ b: CommitID) throws -> CommitID?

    /// Commits reachable from `head` but not from `base` (all of `head`'s history when `base`
    /// is nil), oldest first, at most `limit`; more than `limit` is an error.
    func commits(from base: CommitID?, to head: CommitID, limit: Int) throws -> [CommitID]

    /// The commit's signature; nil when it is not signed.
    func signature(of commit: CommitID) throws -> CommitSignature?
}

/// Who signed a commit, as verified against an allowed-signers file.
public struct Signer: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The principal of the allowed-signers file (usually an email address).
    public var principal: String
    /// The key's fingerprint, e.g. `SHA256:…`, with its type (`ED25519`).
    public var key: String

    public init(principal: String, key: String) {
        self.principal = principal
        self.key = key
    }

    public var description: String { key.isEmpty ? principal : "\(principal) (\(key))" }
}

/// Verifies commit signatures against a trust file. Implemented with OpenSSH's `ssh-keygen`.
public protocol SignatureVerifier: Sendable {
    /// The signer, or an error naming the reason (not signed, not an SSH signature, bad
    /// signature, key not trusted, or the verifying tool did not answer in time).
    func verify(_ signature: CommitSignature?, of commit: CommitInfo) async throws -> Signer
}
