import Testing
import VirtsyncAgent

/// Webhook HMAC signatures as GitHub and Gitea send them in `X-Hub-Signature-256`.
@Suite("webhook signature")
struct WebhookSignatureTests {
    static let secret = Array("It's a Secret to Everybody".utf8)
    static let body = Array("Hello, World!".utf8)
    /// GitHub's documented example for this secret and payload.
    static let github = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    @Test("signing gives sha256= and the lower-case hex HMAC, matching GitHub's documented example")
    func sign() {
        #expect(WebhookSignature.sign(body: Self.body, secret: Self.secret) == Self.github)
    }

    @Test("the right signature verifies, in either case of hex")
    func verifies() {
        #expect(WebhookSignature.verify(header: Self.github, body: Self.body, secret: Self.secret))
        let upper = "sha256=" + Self.github.dropFirst(7).uppercased()
        #expect(WebhookSignature.verify(header: upper, body: Self.body, secret: Self.secret))
        let signed = WebhookSignature.sign(body: [], secret: [1, 2, 3])
        #expect(WebhookSignature.verify(header: signed, body: [], secret: [1, 2, 3]))
    }

    @Test("another body or another secret does not verify")
    func tampered() {
        #expect(!WebhookSignature.verify(header: Self.github, body: Array("Hello, World?".utf8), secret: Self.secret))
        #expect(!WebhookSignature.verify(header: Self.github, body: Self.body, secret: Array("another secret".utf8)))
        var flipped = Array(Self.github)
        flipped[flipped.count - 1] = flipped.last == "7" ? "8" : "7"
        #expect(!WebhookSignature.verify(header: String(flipped), body: Self.body, secret: Self.secret))
    }

    @Test("a missing or malformed header does not verify", arguments: [
        nil,
        "",
        "sha256=",
        String(Self.github.dropFirst(7)),  // hex without the scheme
        "SHA256=" + Self.github.dropFirst(7),
        "sha1=" + Self.github.dropFirst(7),
        String(Self.github.dropLast()),
        Self.github + "0",
        " " + Self.github,
        Self.github + " ",
        String(Self.github.dropLast()) + "g",
        "sha256=" + String(repeating: "z", count: 64),
    ] as [String?])
    func malformed(_ header: String?) {
        #expect(!WebhookSignature.verify(header: header, body: Self.body, secret: Self.secret))
    }

    @Test("an empty secret never verifies, even against its own signature")
    func emptySecret() {
        let signature = WebhookSignature.sign(body: Self.body, secret: [])
        #expect(!WebhookSignature.verify(header: signature, body: Self.body, secret: []))
    }
}
