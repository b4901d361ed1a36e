import Foundation
import VirtsyncEngine

/// A spec repository's location, parsed: which transport, and for network transports the host,
/// port and user. Passwords in URLs are refused (credentials come from files or the
/// environment, never from the command line or a config file that plans quote).
public struct RemoteURL: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case local, file, ssh, https
    }

    public var transport: Transport
    /// What libgit2 is given.
    public var url: String
    public var host: String?
    public var port: Int?
    public var user: String?

    /// Parses `text`: an absolute or relative local path, `file://`, `ssh://[user@]host[:port]/path`,
    /// scp-like `[user@]host:path`, or `https://host[:port]/path`.
    public init(_ text: String, currentDirectory: String = FileManager.default.currentDirectoryPath) throws {
        guard !text.isEmpty, !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw GitError(.other, "repository URL is empty or holds control characters")
        }
        if let schemeEnd = text.range(of: "://") {
            let scheme = text[..<schemeEnd.lowerBound].lowercased()
            let rest = String(text[schemeEnd.upperBound...])
            switch scheme {
            case "file":
                transport = .file
                url = text
            case "ssh", "git+ssh", "ssh+git":
                transport = .ssh
                let (authority, path) = Self.splitAuthority(rest)
                let parsed = try Self.parseAuthority(authority, scheme: "ssh")
                (user, host, port) = (parsed.user, parsed.host, parsed.port)
                url = "ssh://\(user.map { "\($0)@" } ?? "")\(Self.bracketed(parsed.host))\(port.map { ":\($0)" } ?? "")\(path)"
            case "https":
                transport = .https
                let (authority, path) = Self.splitAuthority(rest)
                let parsed = try Self.parseAuthority(authority, scheme: "https")
                (user, host, port) = (parsed.user, parsed.host, parsed.port)
                url = "https://\(Self.bracketed(parsed.host))\(port.map { ":\($0)" } ?? "")\(path)"
            case "http", "git":
                throw GitError(.other, "\(scheme):// is not accepted: it is neither encrypted nor authenticated; use https:// or ssh://")
            default:
                throw GitError(.other, "unsupported repository URL scheme \(scheme)://; use a path, file://, ssh:// or https://")
            }
            return
        }
        // scp-like: a colon before the first slash, and not a local path that exists.
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/"), !FileManager.default.fileExists(atPath: text) {
            transport = .ssh
            let authority = String(text[..<colon])
            let path = String(text[text.index(after: colon)...])
            let parsed = try Self.parseAuthority(authority, scheme: "ssh")
            guard parsed.port == nil else { throw GitError(.other, "scp-like repository URLs take no port; use ssh://host:port/path") }
            (user, host, port) = (parsed.user, parsed.host, nil)
            url = "\(user.map { "\($0)@" } ?? "")\(parsed.host):\(path)"
            return
        }
        transport = .local
        let absolute = text.hasPrefix("/") ? text : currentDirectory + "/" + text
        url = (absolute as NSString).standardizingPath
    }

    /// The URL as plans and logs show it: never with credentials.
    public var description: String { url }

    /// The same repository however it was named: local paths and `file://` URLs become
    /// `file://` + the real path (symbolic links resolved), so `/srv/specs`, `file:///srv/specs`
    /// and `/srv/specs/` share one cache and one record of what was applied.
    public var identity: String {
        switch transport {
        case .local, .file:
            var path = transport == .file ? String(url.dropFirst("file://".count)) : url
            path = (path as NSString).standardizingPath
            if let resolved = realpath(path, nil) {
                path = String(cString: resolved)
                free(resolved)
            }
            return "file://" + path
        case .ssh, .https:
            return url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    /// The name a known_hosts file uses for this host: `host`, or `[host]:port` off port 22.
    public var knownHostsName: String? {
        guard let host else { return nil }
        if let port, port != 22 { return "[\(host)]:\(port)" }
        return host
    }

    private static func splitAuthority(_ rest: String) -> (String, String) {
        guard let slash = rest.firstIndex(of: "/") else { return (rest, "/") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    private static func parseAuthority(_ authority: String, scheme: String) throws -> (user: String?, host: String, port: Int?) {
        var hostPart = Substring(authority)
        var user: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if userInfo.contains(":") {
                throw GitError(.other, "the repository URL carries a password; give it in a file (--token-file) or an environment variable (--token-env) instead")
            }
            user = userInfo.isEmpty ? nil : String(userInfo).removingPercentEncoding ?? String(userInfo)
            hostPart = authority[authority.index(after: at)...]
        }
        var port: Int?
        var host = String(hostPart)
        if hostPart.hasPrefix("["), let close = hostPart.firstIndex(of: "]") {
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 }
        } else if let colon = hostPart.lastIndex(of: ":") {
            host = String(hostPart[..<colon])
            port = Int(hostPart[hostPart.index(after: colon)...]) ?? -1
        }
        guard !host.isEmpty else { throw GitError(.other, "the repository URL has no host") }
        if let p = port, !(1...65535).contains(p) { throw GitError(.other, "the repository URL has an invalid port") }
        return (user, host, port)
    }
}
