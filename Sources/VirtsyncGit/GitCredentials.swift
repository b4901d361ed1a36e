import Foundation
import VirtsyncEngine

/// A secret (token or password). Its description is redacted, so it cannot reach output or
/// logs by accident; only the credential callback reads `value`.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String

    init(value: String) {
        self.value = value
    }

    /// Reads a secret from a file (trailing newline removed). The file should be readable by
    /// its owner only; a group- or world-readable file is refused.
    public static func fromFile(_ path: String) throws -> Secret {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw GitError(.authentication, "cannot read the token file \(path)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw GitError(.authentication, "the token file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        return try make(String(decoding: data, as: UTF8.self), from: "the token file \(path)")
    }

    /// Reads a secret from an environment variable.
    public static func fromEnvironment(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Secret {
        guard let text = environment[name] else {
            throw GitError(.authentication, "the environment variable \(name) is not set")
        }
        return try make(text, from: "the environment variable \(name)")
    }

    private static func make(_ text: String, from origin: String) throws -> Secret {
        let trimmed = text.trimmingCharacters(in: .newlines)
        guard !trimmed.isEmpty else { throw GitError(.authentication, "\(origin) is empty") }
        guard !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw GitError(.authentication, "\(origin) holds more than one line")
        }
        return Secret(value: trimmed)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// How to authenticate to a remote and check its identity.
public struct GitCredentials: Sendable {
    /// SSH: a private key file (its `.pub` beside it is used when present).
    public var sshKey: String?
    /// SSH: ask the agent at `SSH_AUTH_SOCK` (used when no key file is given).
    public var sshAgent: Bool
    /// SSH: the known_hosts file that must list the server's host key. Unknown and changed
    /// keys are refused.
    public var knownHosts: String?
    /// HTTPS: the user name sent with the token (default `git`; GitLab wants `oauth2`).
    public var username: String?
    /// HTTPS: a token or password.
    public var secret: Secret?
    /// HTTPS: a file of trusted certificate authorities (PEM) instead of the system's, for a
    /// server with a private CA. Process-wide in libgit2: set once per process.
    public var caFile: String?

    public init(sshKey: String? = nil, sshAgent: Bool = true, knownHosts: String? = nil, username: String? = nil, secret: Secret? = nil,
                caFile: String? = nil) {
        self.caFile = caFile
        self.sshKey = sshKey
        self.sshAgent = sshAgent
        self.knownHosts = knownHosts
        self.username = username
        self.secret = secret
    }

    /// The known_hosts file actually used: the one given, else `~/.ssh/known_hosts`.
    var resolvedKnownHosts: String {
        if let knownHosts { return knownHosts }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.ssh/known_hosts"
    }
}
