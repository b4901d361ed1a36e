import VirtsyncEngine

/// How to reach and trust a spec repository: what the CLI's `--repo` options and the agent's
/// `source:` section both describe. `source(stateDirectory:)` builds the cache and verifier.
public struct GitSourceSettings: Sendable {
    public var remote: RemoteURL
    public var sshKey: String?
    public var knownHosts: String?
    public var httpsUser: String?
    /// A file holding the HTTPS token (mode 600); not with `tokenEnv`.
    public var tokenFile: String?
    /// An environment variable holding the HTTPS token.
    public var tokenEnv: String?
    public var caFile: String?
    /// An OpenSSH allowed-signers file; nil verifies no signatures.
    public var allowedSigners: String?
    public var fetchTimeout: Duration

    /// Settings for `remote`; everything else optional.
    public init(remote: RemoteURL, sshKey: String? = nil, knownHosts: String? = nil, httpsUser: String? = nil,
                tokenFile: String? = nil, tokenEnv: String? = nil, caFile: String? = nil, allowedSigners: String? = nil,
                fetchTimeout: Duration = .seconds(60)) {
        self.remote = remote
        self.sshKey = sshKey
        self.knownHosts = knownHosts
        self.httpsUser = httpsUser
        self.tokenFile = tokenFile
        self.tokenEnv = tokenEnv
        self.caFile = caFile
        self.allowedSigners = allowedSigners
        self.fetchTimeout = fetchTimeout
    }

    /// The repository source over a bare cache in `<stateDirectory>/git`, verifying signatures
    /// when `allowedSigners` is set and `verify` is true.
    /// - Throws: `GitError` for an unreadable token, an unset variable or an unusable trust file.
    public func source(stateDirectory: String, verify: Bool = true) throws -> RepositorySource {
        var credentials = GitCredentials(sshKey: sshKey, knownHosts: knownHosts, username: httpsUser, caFile: caFile)
        if let tokenFile { credentials.secret = try Secret.fromFile(tokenFile) }
        if let tokenEnv { credentials.secret = try Secret.fromEnvironment(tokenEnv) }
        let cache = GitRepositoryCache(remote: remote, cacheDirectory: stateDirectory + "/git", credentials: credentials,
                                       fetchTimeout: fetchTimeout)
        let verifier = try verify ? allowedSigners.map { try SSHSignatureVerifier(allowedSigners: $0) } : nil
        return RepositorySource(repository: cache, verifier: verifier)
    }
}
