// Stand-in for swift-crypto's `Crypto` module, for the known_hosts fuzz target only.
//
// It provides just the API surface Sources/VirtsyncGit/SSH/KnownHosts.swift uses
// (`HMAC<Insecure.SHA1>.isValidAuthenticationCode(_:authenticating:using:)`, `SymmetricKey(data:)`),
// so the real, unmodified file compiles without building BoringSSL with the fuzzer's
// instrumentation. HMAC-SHA1 is a real, plain implementation (RFC 2104 over FIPS 180-4 SHA-1):
// hashed seed entries made by `ssh-keygen -H` match as they do in production. Not constant time,
// not for any other use.

/// A hash function with the block size HMAC needs.
public protocol HashFunction: Sendable {
    /// The block size in bytes.
    static var blockByteCount: Int { get }
    /// The digest of `message`.
    static func digest(of message: [UInt8]) -> [UInt8]
}

/// Namespace of the insecure hash functions, as in swift-crypto.
public enum Insecure {
    /// SHA-1 (FIPS 180-4).
    public struct SHA1: HashFunction {
        public static var blockByteCount: Int { 64 }

        public static func digest(of message: [UInt8]) -> [UInt8] {
            var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
            var m = message
            let bitLength = UInt64(message.count) &* 8
            m.append(0x80)
            while m.count % 64 != 56 { m.append(0) }
            for shift in stride(from: 56, through: 0, by: -8) { m.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
            var w = [UInt32](repeating: 0, count: 80)
            for chunk in stride(from: 0, to: m.count, by: 64) {
                for i in 0..<16 {
                    let j = chunk + 4 * i
                    w[i] = UInt32(m[j]) << 24 | UInt32(m[j + 1]) << 16 | UInt32(m[j + 2]) << 8 | UInt32(m[j + 3])
                }
                for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
                var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
                for i in 0..<80 {
                    let f: UInt32, k: UInt32
                    switch i {
                    case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                    case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                    case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                    default: f = b ^ c ^ d; k = 0xCA62_C1D6
                    }
                    let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                    (e, d, c, b, a) = (d, c, rotl(b, 30), a, t)
                }
                h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
            }
            return h.flatMap { word in stride(from: 24, through: 0, by: -8).map { UInt8(truncatingIfNeeded: word >> UInt32($0)) } }
        }

        private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
    }
}

/// A symmetric key: its bytes.
public struct SymmetricKey: Sendable {
    let bytes: [UInt8]

    public init<D: Sequence>(data: D) where D.Element == UInt8 {
        bytes = Array(data)
    }
}

/// HMAC (RFC 2104) over `H`.
public struct HMAC<H: HashFunction>: Sendable {
    /// The authentication code of `data` under `key`.
    public static func authenticationCode<D: Sequence>(for data: D, using key: SymmetricKey) -> [UInt8] where D.Element == UInt8 {
        var k = key.bytes.count > H.blockByteCount ? H.digest(of: key.bytes) : key.bytes
        k += [UInt8](repeating: 0, count: H.blockByteCount - k.count)
        let inner = H.digest(of: k.map { $0 ^ 0x36 } + Array(data))
        return H.digest(of: k.map { $0 ^ 0x5C } + inner)
    }

    /// Whether `code` is the authentication code of `data` under `key`.
    public static func isValidAuthenticationCode<C: Sequence, D: Sequence>(
        _ code: C, authenticating data: D, using key: SymmetricKey
    ) -> Bool where C.Element == UInt8, D.Element == UInt8 {
        Array(code) == authenticationCode(for: data, using: key)
    }
}
