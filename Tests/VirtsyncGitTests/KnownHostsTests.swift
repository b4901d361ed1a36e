import Foundation
import Testing
@testable import VirtsyncGit
import VirtsyncTestSupport

@Suite("known_hosts")
struct KnownHostsTests {
    static let keyA: [UInt8] = Array("key-A-blob".utf8)
    static let keyB: [UInt8] = Array("key-B-blob".utf8)
    static var a: String { Data(keyA).base64EncodedString() }
    static var b: String { Data(keyB).base64EncodedString() }

    @Test("a * in the pattern is a wildcard even where the text has a * (found by fuzzing)")
    func starFacingStar() {
        #expect(KnownHosts.glob("*", "*x"))
        #expect(KnownHosts.glob("a*", "a*b"))
        #expect(KnownHosts.glob("*.example.com", "*.example.com"))
        #expect(!KnownHosts.glob("a*c", "a*b"))
        #expect(KnownHosts.glob("h?.lab", "h1.lab"))
    }

    @Test("plain names, ports, wildcards and negation")
    func plain() {
        let known = KnownHosts(text: """
        # comment
        git.example.com,10.0.0.5 ssh-ed25519 \(Self.a) ops
        [git.example.com]:2222 ssh-ed25519 \(Self.b)
        *.lab.example.com,!bad.lab.example.com ssh-ed25519 \(Self.a)
        garbage line
        """)
        #expect(known.verdict(name: "git.example.com", key: Self.keyA) == .trusted)
        #expect(known.verdict(name: "10.0.0.5", key: Self.keyA) == .trusted)
        #expect(known.verdict(name: "git.example.com", key: Self.keyB) == .changed)
        #expect(known.verdict(name: "[git.example.com]:2222", key: Self.keyB) == .trusted)
        #expect(known.verdict(name: "[git.example.com]:2222", key: Self.keyA) == .changed)
        #expect(known.verdict(name: "h1.lab.example.com", key: Self.keyA) == .trusted)
        #expect(known.verdict(name: "bad.lab.example.com", key: Self.keyA) == .unknown)
        #expect(known.verdict(name: "other.example.com", key: Self.keyA) == .unknown)
    }

    @Test("names hashed by OpenSSH's own ssh-keygen -H match only their own host")
    func hashed() async throws {
        let scratch = try ScratchDirectory(prefix: "known-hosts")
        let keyA = try await SSHKey.generate(at: scratch.path("a"))
        let keyB = try await SSHKey.generate(at: scratch.path("b"))
        let path = scratch.path("known_hosts")
        try Data((keyA.knownHostsLine(host: "[127.0.0.1]:4022") + "\n" + keyB.knownHostsLine(host: "git.example.com") + "\n").utf8)
            .write(to: URL(fileURLWithPath: path))
        try await Command.check("ssh-keygen", ["-q", "-H", "-f", path])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("|1|") }, "\(text)")
        let known = KnownHosts(text: text)
        #expect(known.verdict(name: "[127.0.0.1]:4022", key: keyA.publicKeyBlob) == .trusted)
        #expect(known.verdict(name: "[127.0.0.1]:4023", key: keyA.publicKeyBlob) == .unknown)
        #expect(known.verdict(name: "127.0.0.1", key: keyA.publicKeyBlob) == .unknown)
        #expect(known.verdict(name: "[127.0.0.1]:4022", key: keyB.publicKeyBlob) == .changed)
        #expect(known.verdict(name: "git.example.com", key: keyB.publicKeyBlob) == .trusted)
    }

    @Test("revoked keys are refused even where a host line lists them; cert-authority lines are ignored")
    func revoked() {
        let known = KnownHosts(text: """
        git.example.com ssh-ed25519 \(Self.a)
        @revoked * ssh-ed25519 \(Self.a)
        @cert-authority *.example.com ssh-ed25519 \(Self.b)
        """)
        #expect(known.verdict(name: "git.example.com", key: Self.keyA) == .revoked)
        #expect(known.verdict(name: "x.example.com", key: Self.keyB) == .unknown)
    }
}
