import Foundation
import Testing
@testable import VirtsyncGit

@Suite("known_hosts")
struct KnownHostsTests {
    static let keyA: [UInt8] = Array("key-A-blob".utf8)
    static let keyB: [UInt8] = Array("key-B-blob".utf8)
    static var a: String { Data(keyA).base64EncodedString() }
    static var b: String { Data(keyB).base64EncodedString() }

    @Test("SHA-1 and HMAC-SHA-1 match the published test vectors")
    func sha1Vectors() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array(String(repeating: "a", count: 1000).utf8))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
        // RFC 2202, test case 2.
        #expect(hex(SHA1.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
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

    @Test("hashed names match only their own host")
    func hashed() {
        let salt: [UInt8] = Array(0..<20)
        let hash = SHA1.hmac(key: salt, message: Array("[127.0.0.1]:4022".utf8))
        let line = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString()) ssh-ed25519 \(Self.a)"
        let known = KnownHosts(text: line)
        #expect(known.verdict(name: "[127.0.0.1]:4022", key: Self.keyA) == .trusted)
        #expect(known.verdict(name: "[127.0.0.1]:4023", key: Self.keyA) == .unknown)
        #expect(known.verdict(name: "[127.0.0.1]:4022", key: Self.keyB) == .changed)
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
