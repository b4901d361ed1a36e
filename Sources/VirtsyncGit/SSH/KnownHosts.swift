import Crypto
import Foundation
import VirtsyncEngine

/// An OpenSSH known_hosts file, to check a server's host key before anything is sent to it.
///
/// Supported: plain and hashed (`|1|salt|hash`) host names, comma-separated patterns with `*`
/// and `?` wildcards and `!` negation, `[host]:port` names, and `@revoked` lines. Lines marked
/// `@cert-authority` are ignored: host certificates are not accepted.
public struct KnownHosts: Sendable {
    /// The verdict on one host key.
    public enum Verdict: Equatable, Sendable {
        case trusted
        /// The file lists other keys for this host: possibly a man-in-the-middle.
        case changed
        /// The file has no entry for this host.
        case unknown
        /// The key is listed as revoked.
        case revoked
    }

    struct Entry: Sendable {
        var marker: String?
        var patterns: [String]
        var keyType: String
        var key: [UInt8]
    }

    let entries: [Entry]

    /// Parses the text of a known_hosts file; malformed lines are skipped, as OpenSSH does.
    public init(text: String) {
        var parsed: [Entry] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var marker: String?
            if first.hasPrefix("@") {
                marker = first
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            parsed.append(Entry(marker: marker, patterns: fields[0].split(separator: ",").map(String.init),
                                keyType: fields[1], key: [UInt8](key)))
        }
        entries = parsed
    }

    /// Reads a known_hosts file.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GitError(.hostVerification, "cannot read the known_hosts file \(path)")
        }
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// The verdict for `key` (the raw public key blob) presented by `name` (`host` or `[host]:port`).
    public func verdict(name: String, key: [UInt8]) -> Verdict {
        if entries.contains(where: { $0.marker == "@revoked" && $0.key == key }) { return .revoked }
        let forHost = entries.filter { $0.marker == nil && Self.matches(name: name, patterns: $0.patterns) }
        if forHost.isEmpty { return .unknown }
        return forHost.contains { $0.key == key } ? .trusted : .changed
    }

    static func matches(name: String, patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("|1|") {
                if hashedMatch(name: name, entry: pattern) { matched = true }
            } else if pattern.hasPrefix("!") {
                if glob(String(pattern.dropFirst()).lowercased(), name.lowercased()) { return false }
            } else if glob(pattern.lowercased(), name.lowercased()) {
                matched = true
            }
        }
        return matched
    }

    static func hashedMatch(name: String, entry: String) -> Bool {
        let parts = entry.split(separator: "|", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "1", let salt = Data(base64Encoded: String(parts[1])),
              let hash = Data(base64Encoded: String(parts[2])) else { return false }
        // OpenSSH defines hashed names with HMAC-SHA1 (not a collision-resistance use).
        return HMAC<Insecure.SHA1>.isValidAuthenticationCode([UInt8](hash), authenticating: Array(name.utf8), using: SymmetricKey(data: [UInt8](salt)))
    }

    /// Shell-style matching with `*` and `?`, over the whole name.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var (pi, ti) = (0, 0)
        var star: Int?, mark = 0
        while ti < t.count {
            // `*` first, as OpenSSH's match_pattern does: tested after the literal comparison, a `*`
            // facing a `*` in the text was consumed as a literal and never became a wildcard, so
            // `*` did not match `*x` (found by Fuzz/KnownHosts).
            if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if let s = star {
                pi = s + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
