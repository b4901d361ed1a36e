import Foundation

/// Keys and trust files for SSH-signed commits and tags.
extension GitFixture {
    /// Generates a new key pair named `name` in the fixture's `keys/` folder (one name, one key).
    public func makeKey(_ name: String, type: SSHKey.KeyType = .ed25519) async throws -> SSHKey {
        let keys = try directory.makeDirectory("keys")
        return try await SSHKey.generate(at: "\(keys)/\(name)", type: type, comment: "\(name)@virtsync.invalid")
    }

    /// Writes an OpenSSH ALLOWED SIGNERS file trusting `keys` for git signatures by `principal`
    /// (default: the fixture's committer email) and returns its absolute path.
    @discardableResult
    public func writeAllowedSigners(_ keys: [SSHKey], principal: String = GitFixture.authorEmail,
                             name: String = "allowed_signers") throws -> String {
        let lines = keys.map { $0.allowedSignersLine(principal: principal) }
        return try writeTrustFile(name, lines: lines)
    }

    /// Writes `lines` (newline-terminated) to `name` in the fixture's `trust/` folder and returns
    /// its absolute path; for hand-made allowed-signers files (comments, options, bad lines).
    @discardableResult
    public func writeTrustFile(_ name: String, lines: [String]) throws -> String {
        let trust = try directory.makeDirectory("trust")
        let path = "\(trust)/\(name)"
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `git verify-commit` (or `verify-tag` when `tag` is true) on `revision` against the
    /// allowed-signers file at `allowedSigners`; the result tells whether git accepted it.
    public func verify(_ revision: String, allowedSigners: String, tag: Bool = false) async throws -> CommandResult {
        try await gitResult(["-c", "gpg.ssh.allowedSignersFile=\(allowedSigners)",
                             tag ? "verify-tag" : "verify-commit", revision])
    }
}
