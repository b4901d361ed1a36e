import Foundation

/// The request line and header fields of one HTTP/1.x request, parsed strictly (RFC 9112): what
/// a lenient parser would guess at (folded lines, whitespace before a colon, two differing
/// lengths, a length together with a transfer coding) is refused, so no proxy in front of the
/// agent can read a request differently from it.
struct HTTPRequestHead {
    /// Why a head was refused: the status to answer with and a line for the response body.
    struct Rejection: Error {
        /// 400, 411, 417 or 505.
        var status: Int
        /// A short human explanation.
        var reason: String
    }

    var method: String
    var path: String
    var query: [String: String]
    /// Header fields by lower-cased name, repeats joined with ", ".
    var headers: [String: String]
    /// `Content-Length`, nil when absent.
    var contentLength: Int?
    /// Whether the client waits for `100 Continue` before sending the body (HTTP/1.1 only).
    var expectsContinue: Bool

    /// The index just past the blank line ending the head in `buffer`, nil if it has not come
    /// yet. Looks from `start` on (pass where the previous search stopped, less three bytes).
    /// Lines may end in CRLF or a bare LF (RFC 9112 section 2.2 lets a recipient accept both).
    static func end(in buffer: [UInt8], from start: Int) -> Int? {
        var i = max(0, start)
        while i < buffer.count {
            if buffer[i] == lf {
                if i + 1 < buffer.count && buffer[i + 1] == lf { return i + 2 }
                if i + 2 < buffer.count && buffer[i + 1] == cr && buffer[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses a complete head (up to and including its blank line).
    static func parse(_ bytes: ArraySlice<UInt8>) -> Result<HTTPRequestHead, Rejection> {
        var lines: [ArraySlice<UInt8>] = bytes.split(separator: lf, omittingEmptySubsequences: false).map { line in
            line.last == cr ? line.dropLast() : line
        }
        // The blank line and the empty remainder after its LF.
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first, !requestLine.isEmpty else { return .failure(bad("empty request line")) }
        for line in lines where line.contains(where: { $0 == cr || $0 == 0 }) {
            return .failure(bad("stray CR or NUL in the head"))
        }

        let parts = requestLine.split(separator: space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(bad("request line is not 'method target version'")) }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else { return .failure(bad("malformed method")) }
        guard !target.isEmpty, target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            return .failure(bad("malformed request target"))
        }
        let isHTTP11: Bool
        switch version {
        case "HTTP/1.1": isHTTP11 = true
        case "HTTP/1.0": isHTTP11 = false
        default:
            let digits = Array(version.utf8.dropFirst(5))
            if version.hasPrefix("HTTP/") && digits.count == 3 && digits[1] == UInt8(ascii: ".")
                && isDigit(digits[0]) && isDigit(digits[2]) {
                return .failure(Rejection(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are served"))
            }
            return .failure(bad("malformed HTTP version"))
        }
        guard let (path, queryText) = split(target: target, method: method) else {
            return .failure(bad("request target is neither a path nor an absolute URL"))
        }

        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let first = line.first, first != space, first != tab else {
                return .failure(bad("folded or empty header line"))
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .failure(bad("header line without a colon")) }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return .failure(bad("malformed header name")) }
            let rawValue = line[(colon + 1)...]
            guard rawValue.allSatisfy({ $0 == tab || $0 >= 0x20 && $0 != 0x7f }) else {
                return .failure(bad("control character in a header value"))
            }
            let value = String(decoding: trimmed(rawValue), as: UTF8.self)
            let key = String(decoding: name, as: UTF8.self).lowercased()
            headers[key] = headers[key].map { $0 + ", " + value } ?? value
        }
        if isHTTP11 && headers["host"] == nil { return .failure(bad("HTTP/1.1 request without Host")) }

        var contentLength: Int?
        if let field = headers["content-length"] {
            // Repeated fields with one value are allowed (RFC 9112 section 6.3); differing ones are not.
            let values = Set(field.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .init(charactersIn: " \t")) })
            guard values.count == 1, let text = values.first, !text.isEmpty, text.count <= 18,
                  text.utf8.allSatisfy(isDigit), let length = Int(text) else {
                return .failure(bad("malformed Content-Length"))
            }
            contentLength = length
        }
        if headers["transfer-encoding"] != nil {
            if contentLength != nil { return .failure(bad("both Transfer-Encoding and Content-Length")) }
            return .failure(Rejection(status: 411, reason: "chunked request bodies are not accepted; send Content-Length"))
        }
        var expectsContinue = false
        if let expect = headers["expect"] {
            guard expect.lowercased() == "100-continue" else {
                return .failure(Rejection(status: 417, reason: "only 'Expect: 100-continue' is understood"))
            }
            expectsContinue = isHTTP11
        }
        return .success(HTTPRequestHead(method: method, path: path, query: parseQuery(queryText), headers: headers,
                                        contentLength: contentLength, expectsContinue: expectsContinue))
    }

    /// The path and the query text of a request target in origin form (`/a?b`), absolute form
    /// (`http://host/a?b`, which RFC 9112 requires servers to accept) or asterisk form (`OPTIONS *`).
    private static func split(target: String, method: String) -> (path: String, query: String)? {
        var rest = Substring(target)
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        if target == "*" { return method == "OPTIONS" ? ("*", "") : nil }
        let lowered = rest.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            let afterScheme = rest[rest.index(rest.firstIndex(of: ":") ?? rest.startIndex, offsetBy: 3)...]
            guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return ("/", "") }
            rest = afterScheme[slash...]
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        guard rest.hasPrefix("/") else { return nil }
        guard let question = rest.firstIndex(of: "?") else { return (String(rest), "") }
        return (String(rest[..<question]), String(rest[rest.index(after: question)...]))
    }

    /// `a=1&b=x%20y` as a dictionary, percent-decoded with `+` as a space; a name without `=` has
    /// an empty value; the last of repeated names wins.
    static func parseQuery(_ text: String) -> [String: String] {
        var query: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(parts[0])
            guard !name.isEmpty else { continue }
            query[name] = parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return query
    }

    /// Percent-decodes `text`; an invalid escape stays as written.
    private static func percentDecoded(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "+") {
                out.append(space)
            } else if byte == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 2
            } else {
                out.append(byte)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == space || first == tab { slice = slice.dropFirst() }
        while let last = slice.last, last == space || last == tab { slice = slice.dropLast() }
        return slice
    }

    /// Whether `text` is an RFC 9110 token (a method or a header name).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// RFC 9110 `tchar`: the characters of methods and header names.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            tokenPunctuation.contains(byte)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func bad(_ reason: String) -> Rejection { Rejection(status: 400, reason: reason) }

    private static let tokenPunctuation = Set("!#$%&'*+-.^_`|~".utf8)
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
}
