import Foundation
import VirtsyncTestSupport
import Testing

/// `--repo ssh://…` against a real sshd on loopback: the key, and the host key check.
@Suite("CLI: ssh:// remotes", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"),
       .enabled(if: SSHServer.isAvailable, "needs /usr/sbin/sshd and root"))
struct SSHRemoteCLITests {
    @Test("validate over ssh:// works with the key and known_hosts; a wrong or missing host key is refused")
    func sshRemote() async throws {
        let server = try await SSHServer()
        let repo = try await CLIRepository()
        let commit = try await repo.commit("over ssh", ["vms/vm.yaml": TinySpec.vm("\(repo.tag)-vm")])
        let url = server.url(for: repo.git.remotePath)
        let key = server.userKey.privateKeyPath

        let good = try await repo.validate(["--ssh-key", key, "--known-hosts", server.knownHostsPath], repo: url)
        #expect(good.status == 0, "\(good.transcript)\nsshd log:\n\(server.log)")
        #expect(good.stdout.contains("\(url) at \(CLIRepository.short(commit)): valid"), "\(good.transcript)")
        let hashed = try await repo.validate(["--ssh-key", key, "--known-hosts", server.hashedKnownHostsPath], repo: url)
        #expect(hashed.status == 0, "a hashed known_hosts works too: \(hashed.transcript)")

        // A fresh cache each time, so the refusal cannot be hidden by an earlier fetch.
        func attempt(knownHosts: String) async throws -> CommandResult {
            try await VirtsyncBinary.run(["validate", "--repo", url, "--ssh-key", key, "--known-hosts", knownHosts,
                                          "--state-dir", try repo.git.scratchPath("state-\(UUID().uuidString)")])
        }
        let wrong = try await attempt(knownHosts: server.wrongKnownHostsPath)
        #expect(wrong.status == 1, "\(wrong.transcript)")
        #expect(wrong.stderr.contains("host key of \(server.hostPattern)") && wrong.stderr.contains("CHANGED"),
                "\(wrong.transcript)")
        #expect(wrong.stderr.contains(server.wrongKnownHostsPath), "names the file: \(wrong.transcript)")
        #expect(!wrong.stdout.contains("valid"), "\(wrong.transcript)")

        let empty = try repo.git.writeTrustFile("known_hosts_empty", lines: [])
        let unknown = try await attempt(knownHosts: empty)
        #expect(unknown.status == 1, "\(unknown.transcript)")
        #expect(unknown.stderr.contains("host key of \(server.hostPattern) is not in \(empty)") && unknown.stderr.contains("refused"),
                "\(unknown.transcript)")
        #expect(!unknown.stdout.contains("valid"), "\(unknown.transcript)")

        // A key the server does not accept: authentication fails, clearly.
        let stranger = try await repo.git.makeKey("stranger")
        let refusedKey = try await VirtsyncBinary.run(["validate", "--repo", url, "--ssh-key", stranger.privateKeyPath,
                                                       "--known-hosts", server.knownHostsPath,
                                                       "--state-dir", try repo.git.scratchPath("state-stranger")])
        #expect(refusedKey.status == 1, "\(refusedKey.transcript)")
        #expect(refusedKey.stderr.contains("authentication"), "\(refusedKey.transcript)")
    }
}
