import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real OpenSSH server on 127.0.0.1 and a free port, for git over `ssh://`.
///
/// It has its own host key, config, authorized_keys and log in a fresh temporary directory, runs
/// as `sshd -D -e -f <config>` (in the foreground, logging to `sshd.log`), accepts only public-key
/// logins of `root` with `userKey`, and is stopped (SIGTERM, then waited for) by `stop()` or when
/// released (spawned with `posix_spawn`; `ChildProcess` says why not `Process`). It serves any
/// absolute path on this machine, e.g. a `GitFixture`'s `remotePath`.
/// scp-like addresses (`root@127.0.0.1:/path`) cannot name a port, so only `url(for:)` is offered.
public final class SSHServer {
    /// The OpenSSH daemon used.
    public static let executable = "/usr/sbin/sshd"
    /// The account that logs in (sshd can only log in other users when it runs as root).
    public static let user = "root"
    /// Whether a server can run here: sshd is installed and we are root. Use with `.enabled(if:)`.
    public static let isAvailable = FileManager.default.isExecutableFile(atPath: executable) && getuid() == 0

    /// The temporary directory with the config, keys, known_hosts files and log.
    public let directory: ScratchDirectory
    /// The port sshd listens on (on 127.0.0.1 only).
    public let port: Int
    /// The server's host key (ed25519).
    public let hostKey: SSHKey
    /// The client key that `authorized_keys` accepts.
    public let userKey: SSHKey
    /// A known_hosts file with the right host key for `[127.0.0.1]:port`.
    public let knownHostsPath: String
    /// A known_hosts file naming `[127.0.0.1]:port` with a different (wrong) ed25519 key.
    public let wrongKnownHostsPath: String
    /// The right known_hosts file with the hostname hashed by `ssh-keygen -H` (`|1|salt|hash`).
    public let hashedKnownHostsPath: String
    private let process: ChildProcess

    /// Generates keys, starts sshd and waits (up to `timeout` seconds) until it accepts connections.
    public init(userKeyType: SSHKey.KeyType = .ed25519, timeout: TimeInterval = 10) async throws {
        guard Self.isAvailable else {
            throw FixtureError(command: [Self.executable], stderr: "sshd missing or not running as root")
        }
        directory = try ScratchDirectory(prefix: "sshd")
        hostKey = try await SSHKey.generate(at: directory.path("host_ed25519"), comment: "host@virtsync.invalid")
        let wrongKey = try await SSHKey.generate(at: directory.path("wrong_host_ed25519"), comment: "wrong@virtsync.invalid")
        userKey = try await SSHKey.generate(at: directory.path("user_key"), type: userKeyType, comment: "user@virtsync.invalid")
        try Self.write(directory.path("authorized_keys"), userKey.keyText + "\n")
        // sshd refuses to start without its privilege separation directory (normally made by systemd).
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        (process, port) = try Self.start(in: directory, timeout: timeout)
        knownHostsPath = directory.path("known_hosts")
        wrongKnownHostsPath = directory.path("known_hosts_wrong")
        hashedKnownHostsPath = directory.path("known_hosts_hashed")
        let host = "[127.0.0.1]:\(port)"
        try Self.write(knownHostsPath, hostKey.knownHostsLine(host: host) + "\n")
        try Self.write(wrongKnownHostsPath, wrongKey.knownHostsLine(host: host) + "\n")
        try Self.write(hashedKnownHostsPath, hostKey.knownHostsLine(host: host) + "\n")
        try await Command.check("ssh-keygen", ["-q", "-H", "-f", hashedKnownHostsPath])
        try? FileManager.default.removeItem(atPath: hashedKnownHostsPath + ".old")
    }

    deinit { stop() }

    /// The raw host key blob (SSH wire format) the server presents, as in a libgit2 hostkey check.
    public var hostKeyBlob: [UInt8] { hostKey.publicKeyBlob }

    /// The `known_hosts` host pattern for this server: `[127.0.0.1]:port`.
    public var hostPattern: String { "[127.0.0.1]:\(port)" }

    /// `ssh://root@127.0.0.1:port/abs/path` for the repository at the absolute path `path`.
    public func url(for path: String) -> String {
        precondition(path.hasPrefix("/"), "SSHServer.url(for:) needs an absolute path, got \(path)")
        return "ssh://\(Self.user)@127.0.0.1:\(port)\(path)"
    }

    /// A `GIT_SSH_COMMAND` value: OpenSSH with `key` (default `userKey`), only the given known_hosts
    /// file (default the right one), strict host key checking and no config, agent or prompts.
    public func sshCommand(knownHosts: String? = nil, key: SSHKey? = nil) -> String {
        let options = [
            "-F /dev/null", "-i \(quoted((key ?? userKey).privateKeyPath))",
            "-o UserKnownHostsFile=\(quoted(knownHosts ?? knownHostsPath))", "-o GlobalKnownHostsFile=/dev/null",
            "-o StrictHostKeyChecking=yes", "-o IdentitiesOnly=yes", "-o BatchMode=yes", "-o ConnectTimeout=10",
        ]
        return "ssh " + options.joined(separator: " ")
    }

    /// `["GIT_SSH_COMMAND": sshCommand(knownHosts:key:)]`, to pass to `GitFixture.git(_:in:environment:)`.
    public func gitEnvironment(knownHosts: String? = nil, key: SSHKey? = nil) -> [String: String] {
        ["GIT_SSH_COMMAND": sshCommand(knownHosts: knownHosts, key: key)]
    }

    /// What sshd has logged so far (connections, authentication results, errors).
    public var log: String {
        (try? String(contentsOfFile: directory.path("sshd.log"), encoding: .utf8)) ?? ""
    }

    /// Whether the sshd listener process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Stops the listener (SIGTERM, SIGKILL after 5 s) and reaps it; idempotent.
    public func stop() {
        process.terminate()
    }

    private func quoted(_ path: String) -> String {
        "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
