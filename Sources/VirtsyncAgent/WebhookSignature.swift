import Crypto
import VirtsyncCore

/// The HMAC-SHA256 signature forges put on webhook deliveries: GitHub's `X-Hub-Signature-256`
/// and Gitea's or Forgejo's equivalent, `sha256=` followed by the hex MAC of the raw body under
/// the shared secret; and GitLab's `X-Gitlab-Token`, which carries the shared secret itself.
public enum WebhookSignature {
    /// The header value for `body` under `secret`: `sha256=<64 lower-case hex digits>`.
    public static func sign(body: [UInt8], secret: [UInt8]) -> String {
        "sha256=" + Digest.hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
    }

    /// Whether `header` is `sha256=<64 hex digits>` (either case) matching `body` under `secret`.
    /// The MACs are compared in constant time. False for a missing or malformed header, and
    /// always false with an empty secret: a MAC under an empty key proves nothing.
    public static func verify(header: String?, body: [UInt8], secret: [UInt8]) -> Bool {
        guard !secret.isEmpty, let header, let received = macBytes(header) else { return false }
        // swift-crypto compares in constant time.
        return HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: body, using: SymmetricKey(data: secret))
    }

    /// Whether `header` (GitLab's `X-Gitlab-Token`, the shared secret itself sent in clear over
    /// TLS) equals `secret`. Compared in constant time: both sides are hashed first, so neither
    /// the position of the first wrong byte nor the length of the secret shows in the timing.
    /// False for a missing or empty header, and always false with an empty secret.
    public static func verifyToken(header: String?, secret: [UInt8]) -> Bool {
        guard !secret.isEmpty, let header, !header.isEmpty else { return false }
        let received = Array(SHA256.hash(data: Array(header.utf8)))
        let expected = Array(SHA256.hash(data: secret))
        var difference: UInt8 = 0
        for index in 0..<expected.count { difference |= received[index] ^ expected[index] }
        return difference == 0
    }

    /// The 32 bytes of `sha256=<64 hex digits>`, nil for anything else.
    private static func macBytes(_ header: String) -> [UInt8]? {
        let text = Array(header.utf8)
        let prefix = Array("sha256=".utf8)
        guard text.count == prefix.count + 64, Array(text[..<prefix.count]) == prefix else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var i = prefix.count
        while i < text.count {
            guard let high = hexValue(text[i]), let low = hexValue(text[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
