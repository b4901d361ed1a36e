/// One HTTP request as `HTTPServer` hands it to its handler: the head parsed, the whole body read.
public struct HTTPRequest: Sendable {
    /// The method as sent (`GET`, `POST`, ...); methods are case-sensitive, so never normalised.
    public var method: String
    /// The path of the request target, without the query; not percent-decoded (`/status`).
    public var path: String
    /// The query parameters, percent-decoded (`+` as a space); the last of repeated names wins.
    public var query: [String: String]
    /// The header fields by lower-cased name; repeated fields are joined with ", " in order.
    public var headers: [String: String]
    /// The body (empty without `Content-Length`).
    public var body: [UInt8]
    /// The peer's IP address without the port (`127.0.0.1`, `::1`).
    public var peerAddress: String
    /// Whether the peer connected from a loopback address (127.0.0.0/8 or ::1).
    public var peerIsLoopback: Bool

    /// A request with every part given (the server builds these; tests may too).
    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], peerAddress: String = "127.0.0.1", peerIsLoopback: Bool = true) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peerAddress = peerAddress
        self.peerIsLoopback = peerIsLoopback
    }
}

/// One HTTP response: what a handler returns to `HTTPServer`, and what `HTTPClient` receives.
///
/// The server adds `Content-Length`, `Connection: close` and `Date` itself (replacing any a handler
/// set) and `Content-Type: application/octet-stream` when the handler set none.
public struct HTTPResponse: Sendable {
    /// The status code (200, 404, ...).
    public var status: Int
    /// The header fields. From `HTTPClient` the names are lower-cased; a handler may use any case.
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// A response with every part given.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ s: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(s.utf8))
    }

    /// An `application/json` response whose body is already encoded.
    public static func json(_ bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// The body as UTF-8 text (invalid sequences replaced), for logs and tests.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The value of a header field, found by name without regard to case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.key.lowercased() == wanted }?.value
    }

    /// The reason phrase RFC 9110 gives `status` ("Not Found"), or "Unknown" for codes it has none for.
    public static func reasonPhrase(for status: Int) -> String {
        reasonPhrases[status] ?? "Unknown"
    }

    private static let reasonPhrases: [Int: String] = [
        100: "Continue", 101: "Switching Protocols",
        200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
        205: "Reset Content", 206: "Partial Content",
        300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
        307: "Temporary Redirect", 308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
        412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
        417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Content", 423: "Locked",
        425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
        431: "Request Header Fields Too Large",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]
}
