import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client: one request per connection, the response read until the
/// server closes. For `virtsync reconcile --now` talking to the local agent, and for tests.
/// Blocks the calling thread: call it from a command or a test, not from the cooperative pool.
public enum HTTPClient {
    /// The largest response accepted, so a confused server cannot exhaust memory.
    static let maxResponseBytes = 64 * 1024 * 1024

    /// Sends one request to `host:port` and returns the response, whatever its status.
    ///
    /// The client adds `Host`, `Content-Length` (for a body or a POST/PUT/PATCH), `User-Agent`
    /// (unless given) and `Connection: close`. The whole exchange (connecting, sending, receiving)
    /// must finish within `timeout` seconds. The response's header names are lower-cased; its body
    /// is the `Content-Length` bytes, or everything up to the close without one. Throws
    /// `HTTPClientError` naming `host:port` when the server cannot be reached, stops answering,
    /// or answers something that is not HTTP/1.x.
    public static func send(host: String, port: Int, method: String, path: String, headers: [String: String] = [:],
                            body: [UInt8] = [], timeout: Double = 10) throws -> HTTPResponse {
        let display = HTTPSocket.display(host: host, port: port)
        let deadline = ContinuousClock.now + .seconds(timeout)
        guard (1...65535).contains(port) else { throw HTTPClientError(address: display, message: "cannot connect to \(display): port out of range") }
        let fd = try openConnection(host: host, port: port, display: display, deadline: deadline)
        defer { close(fd) }

        let request = requestBytes(host: host, port: port, method: method, path: path, headers: headers, body: body)
        // A server may answer early (413) and stop reading: a failed send is reported only if
        // no response can be read after it.
        let sendFailure = HTTPSocket.writeAll(fd, request, until: deadline)

        var buffer: [UInt8] = []
        readLoop: while true {
            switch HTTPSocket.read(fd, into: &buffer, maximum: 65536, until: deadline) {
            case .data:
                guard buffer.count <= maxResponseBytes else {
                    throw HTTPClientError(address: display, message: "response from \(display) is over \(maxResponseBytes) bytes")
                }
            case .endOfFile:
                break readLoop
            case .timedOut:
                throw HTTPClientError(address: display, message: "no complete response from \(display) within \(timeout) s")
            case .failed(let reason):
                if buffer.isEmpty {
                    throw HTTPClientError(address: display, message: "cannot read from \(display): \(sendFailure ?? reason)")
                }
                break readLoop
            }
        }
        if buffer.isEmpty, let sendFailure {
            throw HTTPClientError(address: display, message: "cannot send to \(display): \(sendFailure)")
        }
        return try parse(buffer, requestMethod: method, display: display)
    }

    /// A connected non-blocking socket to the first of `host`'s addresses that accepts.
    private static func openConnection(host: String, port: Int, display: String, deadline: ContinuousClock.Instant) throws -> Int32 {
        let addresses: [HTTPSocketAddress]
        do {
            addresses = try HTTPSocketAddress.resolve(host: host, port: port)
        } catch {
            throw HTTPClientError(address: display, message: "cannot connect to \(display): \(error.reason)")
        }
        var lastFailure = "no address"
        for address in addresses {
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = socket(address.family, type, 0)
            guard fd >= 0 else {
                lastFailure = HTTPSocket.errnoText(errno)
                continue
            }
            var result = address.withSockaddr { connect(fd, $0, $1) }
            var code = result == 0 ? 0 : errno
            if result != 0 && (code == EINPROGRESS || code == EINTR) {
                if HTTPSocket.wait(fd, for: POLLOUT, until: deadline) {
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    result = getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                    if result != 0 { code = errno }
                } else {
                    code = ETIMEDOUT
                }
            }
            if code == 0 { return fd }
            close(fd)
            lastFailure = code == ETIMEDOUT ? "timed out" : HTTPSocket.errnoText(code)
        }
        throw HTTPClientError(address: display, message: "cannot connect to \(display): \(lastFailure)")
    }

    private static func requestBytes(host: String, port: Int, method: String, path: String,
                                     headers: [String: String], body: [UInt8]) -> [UInt8] {
        let given = Set(headers.keys.map { $0.lowercased() })
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if !given.contains("host") { head += "Host: \(HTTPSocket.display(host: host, port: port))\r\n" }
        if !given.contains("user-agent") { head += "User-Agent: virtsync\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key })
        where !["content-length", "connection", "transfer-encoding"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Parses a whole response (interim 1xx responses skipped).
    private static func parse(_ bytes: [UInt8], requestMethod: String, display: String) throws -> HTTPResponse {
        func malformed(_ why: String) -> HTTPClientError {
            HTTPClientError(address: display, message: "malformed response from \(display): \(why)")
        }
        var start = 0
        while true {
            guard let headEnd = HTTPRequestHead.end(in: bytes, from: start) else {
                throw bytes.isEmpty ? malformed("connection closed without a response") : malformed("incomplete head")
            }
            // Split bytes, not a String: there "\r\n" is one Character and never equals "\n".
            let lines = bytes[start..<headEnd].split(separator: UInt8(ascii: "\n"))
                .map { String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self) }
                .filter { !$0.isEmpty }
            guard let statusLine = lines.first else { throw malformed("empty head") }
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
                  parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
                throw malformed("bad status line '\(statusLine)'")
            }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { throw malformed("header line without a colon") }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[name] = headers[name].map { $0 + ", " + value } ?? value
            }
            if (100..<200).contains(status) {
                start = headEnd
                continue
            }
            let rest = bytes[headEnd...]
            if headers["transfer-encoding"] != nil { throw malformed("chunked responses are not supported") }
            let noContent = requestMethod == "HEAD" || status == 204 || status == 304
            var body = noContent ? [] : Array(rest)
            if !noContent, let field = headers["content-length"] {
                guard let length = Int(field), length >= 0 else { throw malformed("bad Content-Length '\(field)'") }
                guard rest.count >= length else {
                    throw malformed("body ended after \(rest.count) of \(length) bytes")
                }
                body = Array(rest.prefix(length))
            }
            return HTTPResponse(status: status, headers: headers, body: body)
        }
    }
}

/// Why `HTTPClient.send` got no response, naming the server's address, as in
/// "cannot connect to 127.0.0.1:9479: Connection refused".
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    /// The server's address as `host:port`.
    public let address: String
    /// The whole explanation, address included.
    public let message: String

    /// An error about `address`; `message` names it.
    public init(address: String, message: String) {
        self.address = address
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
