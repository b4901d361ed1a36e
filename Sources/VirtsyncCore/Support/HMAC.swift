/// HMAC-SHA256 (RFC 2104 with FIPS 180-4 SHA-256), pure Swift, for webhook signatures.
public enum HMAC {
    /// SHA-256's block size in bytes: keys are padded (or first hashed) to this length.
    private static let blockSize = 64

    /// The 32-byte HMAC-SHA256 of `message` under `key` (any length; longer than a block is hashed).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? SHA256.digest(key) : key
        block.append(contentsOf: repeatElement(0, count: blockSize - block.count))
        var inner = block.map { $0 ^ 0x36 }
        inner.append(contentsOf: message)
        var outer = block.map { $0 ^ 0x5c }
        outer.append(contentsOf: SHA256.digest(inner))
        return SHA256.digest(outer)
    }

    /// Whether `a` and `b` hold the same bytes, taking the same time wherever they differ, so a
    /// caller comparing a received MAC with the expected one leaks nothing about the expected one.
    /// (Arrays of different lengths are unequal at once: the length of a MAC is no secret.)
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
