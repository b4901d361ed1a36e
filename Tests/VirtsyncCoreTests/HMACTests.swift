import Testing
import VirtsyncCore

/// HMAC-SHA256 against the RFC 4231 test vectors, and the constant-time comparison.
@Suite("HMAC")
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let data: [UInt8]
        let mac: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "RFC 4231 case 1", key: Array(repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
               mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(name: "RFC 4231 case 2 (key shorter than the MAC)", key: Array("Jefe".utf8),
               data: Array("what do ya want for nothing?".utf8),
               mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(name: "RFC 4231 case 3", key: Array(repeating: 0xaa, count: 20), data: Array(repeating: 0xdd, count: 50),
               mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(name: "RFC 4231 case 4", key: Array(1...25), data: Array(repeating: 0xcd, count: 50),
               mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(name: "RFC 4231 case 6 (131-byte key is hashed first)", key: Array(repeating: 0xaa, count: 131),
               data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
               mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(name: "RFC 4231 case 7 (131-byte key, data longer than a block)", key: Array(repeating: 0xaa, count: 131),
               data: Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                   + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
               mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test("HMAC-SHA256 matches the RFC 4231 vectors", arguments: vectors)
    func rfc4231(_ vector: Vector) {
        #expect(Self.hex(HMAC.sha256(key: vector.key, message: vector.data)) == vector.mac)
    }

    @Test("RFC 4231 case 5: the first 128 bits match the truncated MAC")
    func truncated() {
        let mac = HMAC.sha256(key: Array(repeating: 0x0c, count: 20), message: Array("Test With Truncation".utf8))
        #expect(Self.hex(Array(mac.prefix(16))) == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test("a key of exactly one block is used as is, not hashed")
    func blockSizedKey() {
        let key = Array(repeating: UInt8(0x42), count: 64)
        let message = Array("block".utf8)
        #expect(HMAC.sha256(key: key, message: message) != HMAC.sha256(key: SHA256.digest(key), message: message))
        #expect(HMAC.sha256(key: key, message: message).count == 32)
    }

    @Test("an empty key and an empty message still give a 32-byte MAC")
    func empty() {
        #expect(Self.hex(HMAC.sha256(key: [], message: []))
            == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test("constant-time comparison: equal bytes are equal, any difference or length mismatch is not")
    func constantTimeEqual() {
        let a: [UInt8] = Array(0..<32)
        #expect(HMAC.constantTimeEqual(a, a))
        #expect(HMAC.constantTimeEqual([], []))
        for i in [0, 15, 31] {
            var b = a
            b[i] ^= 0x01
            #expect(!HMAC.constantTimeEqual(a, b))
        }
        #expect(!HMAC.constantTimeEqual(a, Array(a.prefix(31))))
        #expect(!HMAC.constantTimeEqual(a, a + [0]))
    }
}
