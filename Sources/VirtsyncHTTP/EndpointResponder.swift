import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of the endpoint: Hummingbird's core storage and the peer's address.
public struct EndpointContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address (nil when the channel has none, as in router tests).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Turns Hummingbird's requests into `EndpointRequest`s for the handler and its answers back,
/// holding each request to the endpoint's rules first: a bounded body (413), and a bearer token
/// from peers on other machines where one is configured (401).
public struct EndpointResponder: HTTPResponder {
    public typealias Context = EndpointContext

    let configuration: HTTPEndpointConfiguration
    let handler: @Sendable (EndpointRequest) async -> EndpointResponse
    /// SHA-256 of the token, compared with SHA-256 of what a peer sends: digests compare in
    /// constant time, so the comparison does not leak how much of a guess was right.
    let tokenDigest: SHA256.Digest?
    /// SHA-256 of the write token.
    let writeDigest: SHA256.Digest?

    init(configuration: HTTPEndpointConfiguration, handler: @escaping @Sendable (EndpointRequest) async -> EndpointResponse) {
        self.configuration = configuration
        self.handler = handler
        self.tokenDigest = configuration.bearerToken.map { SHA256.hash(data: $0) }
        self.writeDigest = configuration.writeToken.map { SHA256.hash(data: $0) }
    }

    public func respond(to request: Request, context: EndpointContext) async throws -> Response {
        let peer = Self.peer(context.remoteAddress)
        let path = request.uri.path
        let method = request.method.rawValue
        let authorization = request.headers[.authorization]
        let access: EndpointAccess
        if let writeDigest, Self.bearerMatches(authorization, digest: writeDigest) {
            access = .write
        } else if let tokenDigest, Self.bearerMatches(authorization, digest: tokenDigest) {
            access = .read
        } else {
            access = peer.isLoopback ? .local : .none
        }
        if tokenDigest != nil || writeDigest != nil, access == .none, !configuration.openPaths.contains(path) {
            let message = "a bearer token is required from other machines (Authorization: Bearer ...)"
            // The REST API speaks problem details (RFC 9457); the older paths plain text.
            var response = path.hasPrefix("/api/")
                ? EndpointResponse(status: 401, headers: ["Content-Type": "application/problem+json"],
                                   body: Array(#"{"detail":"\#(message)","status":401,"title":"Unauthorized","type":"about:blank"}"#.utf8))
                : EndpointResponse.text(message + "\n", status: 401)
            response.headers["WWW-Authenticate"] = "Bearer realm=\"virtsync\""
            return Self.response(response, head: method == "HEAD")
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: configuration.maxBody)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            return Self.response(.text("the body is over \(configuration.maxBody) bytes\n", status: 413), head: method == "HEAD")
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            query[String(key).removingPercentEncoding ?? String(key)] = String(value)
        }
        // swift-http-types carries Host as the request's authority, not as a field.
        var headers: [String: String] = request.head.authority.map { ["host": $0] } ?? [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let endpointRequest = EndpointRequest(method: method, path: path, query: query, headers: headers, body: body,
                                              peerAddress: peer.address, peerIsLoopback: peer.isLoopback, access: access)
        return Self.response(await handler(endpointRequest), head: method == "HEAD")
    }

    /// Whether an `Authorization` value carries the token (scheme name in any case, RFC 9110).
    static func bearerMatches(_ header: String?, digest: SHA256.Digest) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return SHA256.hash(data: Array(token.utf8)) == digest
    }

    /// The peer's IP address without the port, and whether it is this host (127.0.0.0/8, ::1,
    /// or an IPv4-mapped 127.0.0.0/8). A peer with no address counts as remote.
    static func peer(_ address: SocketAddress?) -> (address: String, isLoopback: Bool) {
        guard let text = address?.ipAddress else { return ("", false) }
        let lowered = text.lowercased()
        let loopback = lowered.hasPrefix("127.") || lowered == "::1" || lowered.hasPrefix("::ffff:127.")
        return (text, loopback)
    }

    /// Hummingbird's response for `answer`; for HEAD the length of the body, but not the body.
    static func response(_ answer: EndpointResponse, head: Bool) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
            guard let field = HTTPField.Name(name), field != .contentLength else { continue }
            fields.append(HTTPField(name: field, value: value))
        }
        if fields[.contentType] == nil { fields[.contentType] = "application/octet-stream" }
        fields[.contentLength] = String(answer.body.count)
        let status = HTTPResponse.Status(code: answer.status)
        guard !head else { return Response(status: status, headers: fields, body: .init()) }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
