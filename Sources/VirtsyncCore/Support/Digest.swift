import Crypto

/// SHA-256 for spec digests, state fingerprints and stable names, from swift-crypto.
///
/// Nothing here is secret: the digests name content (a spec, an observed state, a cloud-init
/// seed) so that equal content gets equal names.
public enum Digest {
    /// The 32-byte SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    /// The SHA-256 of `data` as 64 lower-case hex digits.
    public static func sha256Hex(_ data: [UInt8]) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lower-case hex of any byte sequence.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
