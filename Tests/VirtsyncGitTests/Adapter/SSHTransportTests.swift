import Foundation
import VirtsyncTestSupport
import Testing
import VirtsyncEngine
import VirtsyncSpec
@testable import VirtsyncGit

@Suite("ssh:// remotes, served by a real sshd on loopback", .enabled(if: SSHServer.isAvailable, "needs /usr/sbin/sshd and root"))
struct SSHTransportTests {
    /// A fixture with one commit and a running server in front of it.
    static func serve(keyType: SSHKey.KeyType = .ed25519) async throws -> (GitFixture, SSHServer, String) {
        let fixture = try await GitFixture()
        try fixture.write("vm.yaml", vmYAML)
        let head = try await fixture.commit("over ssh")
        return (fixture, try await SSHServer(userKeyType: keyType), head)
    }

    @Test("a key file and a known host: fetched and read; plain and hashed known_hosts both work", arguments: [false, true])
    func fetches(hashed: Bool) async throws {
        let (fixture, server, head) = try await Self.serve()
        defer { server.stop() }
        let credentials = GitCredentials(sshKey: server.userKey.privateKeyPath, sshAgent: false,
                                         knownHosts: hashed ? server.hashedKnownHostsPath : server.knownHostsPath)
        let cache = try makeCache(fixture, url: server.url(for: fixture.remotePath), credentials: credentials)
        _ = try cache.fetch()
        let id = try cache.resolve(nil)
        #expect(id.hex == head)
        #expect(try cache.files(at: id, path: ".").0.map(\.path) == ["vm.yaml"])
        #expect(try cache.fetch().receivedObjects == 0)
    }

    @Test("a changed host key is refused before any credential is offered")
    func changedHostKey() async throws {
        let (fixture, server, _) = try await Self.serve()
        defer { server.stop() }
        let credentials = GitCredentials(sshKey: server.userKey.privateKeyPath, sshAgent: false, knownHosts: server.wrongKnownHostsPath)
        let cache = try makeCache(fixture, url: server.url(for: fixture.remotePath), credentials: credentials)
        #expect { try cache.fetch() } throws: { error in
            (error as? GitError)?.kind == .hostVerification && "\(error)".contains("CHANGED") && "\(error)".contains("[127.0.0.1]:\(server.port)")
        }
        #expect(!server.log.contains("Accepted publickey"), "no login happened")
    }

    @Test("an unknown host is refused; a missing known_hosts file too")
    func unknownHost() async throws {
        let (fixture, server, _) = try await Self.serve()
        defer { server.stop() }
        let empty = try fixture.writeTrustFile("empty_known_hosts", lines: [])
        for knownHosts in [empty, try fixture.scratchPath("absent")] {
            let credentials = GitCredentials(sshKey: server.userKey.privateKeyPath, sshAgent: false, knownHosts: knownHosts)
            let cache = try makeCache(fixture, url: server.url(for: fixture.remotePath), credentials: credentials)
            #expect { try cache.fetch() } throws: { ($0 as? GitError)?.kind == .hostVerification }
        }
    }

    @Test("a key the server does not accept fails as authentication, at once")
    func wrongKey() async throws {
        let (fixture, server, _) = try await Self.serve()
        defer { server.stop() }
        let stranger = try await fixture.makeKey("stranger")
        let credentials = GitCredentials(sshKey: stranger.privateKeyPath, sshAgent: false, knownHosts: server.knownHostsPath)
        let cache = try makeCache(fixture, url: server.url(for: fixture.remotePath), credentials: credentials)
        let started = ContinuousClock.now
        #expect { try cache.fetch() } throws: { ($0 as? GitError)?.kind == .authentication }
        #expect(ContinuousClock.now - started < .seconds(10))
        let none = try makeCache(fixture, url: server.url(for: fixture.remotePath),
                                 credentials: GitCredentials(sshAgent: false, knownHosts: server.knownHostsPath))
        #expect { try none.fetch() } throws: { "\($0)".contains("--ssh-key") }
    }
}
