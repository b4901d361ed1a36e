/// One HTTP request as `HTTPEndpoint` hands it to its handler: the head parsed, the whole body read.
///
/// Plain values, so the agent's routes can be tested without a socket and know nothing of the
/// server library.
public struct EndpointRequest: Sendable {
    /// The method as sent (`GET`, `POST`, ...); methods are case-sensitive, so never normalised.
    public var method: String
    /// The path of the request target, without the query (`/status`).
    public var path: String
    /// The query parameters, percent-decoded (`+` as a space); the last of repeated names wins.
    public var query: [String: String]
    /// The header fields by lower-cased name; repeated fields are joined with ", " in order.
    public var headers: [String: String]
    /// The body (empty when none was sent).
    public var body: [UInt8]
    /// The peer's IP address without the port (`127.0.0.1`, `::1`).
    public var peerAddress: String
    /// Whether the peer connected from a loopback address (127.0.0.0/8 or ::1).
    public var peerIsLoopback: Bool
    /// What the caller may do, as the endpoint judged it: from this host, or by which token.
    public var access: EndpointAccess

    /// A request with every part given (the server builds these; tests may too).
    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], peerAddress: String = "127.0.0.1", peerIsLoopback: Bool = true, access: EndpointAccess? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peerAddress = peerAddress
        self.peerIsLoopback = peerIsLoopback
        self.access = access ?? (peerIsLoopback ? .local : .none)
    }
}

/// What a request may do, by where it comes from and the token it carries.
public enum EndpointAccess: Sendable, Equatable {
    /// From this host (loopback), with no token or a wrong one.
    case local
    /// With the read token (`http.tokenFile`).
    case read
    /// With the write token (`http.writeTokenFile`): reads and the write endpoints.
    case write
    /// From another machine without a valid token (only open paths get this far).
    case none
}

/// One HTTP response: what a handler returns to `HTTPEndpoint`, and what `EndpointClient` receives.
///
/// The server sets `Content-Length` itself (replacing any a handler set) and
/// `Content-Type: application/octet-stream` when the handler set none.
public struct EndpointResponse: Sendable {
    /// The status code (200, 404, ...).
    public var status: Int
    /// The header fields. From `EndpointClient` the names are lower-cased; a handler may use any case.
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
    public static func text(_ s: String, status: Int = 200) -> EndpointResponse {
        EndpointResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(s.utf8))
    }

    /// An `application/json` response whose body is already encoded.
    public static func json(_ bytes: [UInt8], status: Int = 200) -> EndpointResponse {
        EndpointResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// The body as UTF-8 text (invalid sequences replaced), for logs and tests.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The value of a header field, found by name without regard to case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.key.lowercased() == wanted }?.value
    }
}
