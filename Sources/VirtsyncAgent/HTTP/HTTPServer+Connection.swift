import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serving one connection: read the request within the deadline, run the handler, write the
/// response, close.
extension HTTPServer {
    /// What reading a connection gave.
    private enum Incoming {
        /// A complete, well-formed request for the handler.
        case request(HTTPRequest)
        /// A request refused before the handler: answer with this status and reason.
        case refused(status: Int, reason: String)
        /// Nothing to answer: the client went away (or never said anything before closing).
        case abandoned
    }

    /// Serves the one request on `fd` (a non-blocking connected socket) and closes it.
    func serve(_ fd: Int32, peerAddress: String, peerIsLoopback: Bool) {
        let response: HTTPResponse
        var headOnly = false
        switch readRequest(fd, peerAddress: peerAddress, peerIsLoopback: peerIsLoopback) {
        case .request(let request):
            headOnly = request.method == "HEAD"
            response = respond(to: request)
        case .refused(let status, let reason):
            logger.debug("refused an HTTP request", metadata: ["peer": "\(peerAddress)", "status": "\(status)", "reason": "\(reason)"])
            response = .text(reason + "\n", status: status)
        case .abandoned:
            close(fd)
            return
        }
        let writeDeadline = ContinuousClock.now + .seconds(limits.writeTimeout)
        if let failure = HTTPSocket.writeAll(fd, Self.serialize(response, headOnly: headOnly), until: writeDeadline) {
            logger.debug("could not send an HTTP response", metadata: ["peer": "\(peerAddress)", "error": "\(failure)"])
        }
        closeGracefully(fd)
    }

    private func readRequest(_ fd: Int32, peerAddress: String, peerIsLoopback: Bool) -> Incoming {
        // One deadline for the whole request: a client trickling a byte at a time gains nothing.
        let deadline = ContinuousClock.now + .seconds(limits.readTimeout)
        var buffer: [UInt8] = []
        var searchedUpTo = 0
        var headEnd: Int
        while true {
            if let end = HTTPRequestHead.end(in: buffer, from: searchedUpTo - 3) {
                headEnd = end
                break
            }
            searchedUpTo = buffer.count
            if buffer.count > limits.maxHeaderBytes {
                return .refused(status: 431, reason: "request head over \(limits.maxHeaderBytes) bytes")
            }
            switch HTTPSocket.read(fd, into: &buffer, until: deadline) {
            case .data:
                continue
            case .endOfFile:
                return buffer.isEmpty ? .abandoned : .refused(status: 400, reason: "request ended inside its head")
            case .timedOut:
                return .refused(status: 408, reason: "request not received within \(limits.readTimeout) s")
            case .failed:
                return .abandoned
            }
        }
        guard headEnd <= limits.maxHeaderBytes else {
            return .refused(status: 431, reason: "request head over \(limits.maxHeaderBytes) bytes")
        }
        let head: HTTPRequestHead
        switch HTTPRequestHead.parse(buffer[..<headEnd]) {
        case .success(let parsed): head = parsed
        case .failure(let rejection): return .refused(status: rejection.status, reason: rejection.reason)
        }
        let length = head.contentLength ?? 0
        guard length <= limits.maxBody else {
            return .refused(status: 413, reason: "request body over \(limits.maxBody) bytes")
        }
        if head.expectsContinue && length > buffer.count - headEnd {
            _ = HTTPSocket.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), until: deadline)
        }
        while buffer.count - headEnd < length {
            let missing = length - (buffer.count - headEnd)
            switch HTTPSocket.read(fd, into: &buffer, maximum: min(missing, 65536), until: deadline) {
            case .data:
                continue
            case .endOfFile:
                return .refused(status: 400, reason: "request body shorter than its Content-Length")
            case .timedOut:
                return .refused(status: 408, reason: "request not received within \(limits.readTimeout) s")
            case .failed:
                return .abandoned
            }
        }
        // Bytes past the body would be a pipelined second request: one request per connection.
        let body = Array(buffer[headEnd..<(headEnd + length)])
        return .request(HTTPRequest(method: head.method, path: head.path, query: head.query, headers: head.headers,
                                    body: body, peerAddress: peerAddress, peerIsLoopback: peerIsLoopback))
    }

    /// Runs the async handler from this (non-pool) thread and waits for its answer.
    private func respond(to request: HTTPRequest) -> HTTPResponse {
        let answer = HTTPLockedBox<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let handler = self.handler
        Task.detached {
            let response = await handler(request)
            answer.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        return answer.withLock { $0 } ?? .text("no response\n", status: 500)
    }

    /// Half-closes, then reads and drops what the client still sends (for at most a second) before
    /// closing: closing with unread bytes would reset the connection and could destroy the
    /// response in flight, such as a 413 sent while the client was still uploading.
    private func closeGracefully(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + .seconds(min(1, limits.readTimeout))
        var sink: [UInt8] = []
        while case .data = HTTPSocket.read(fd, into: &sink, maximum: 65536, until: deadline) {
            sink.removeAll(keepingCapacity: true)
        }
        close(fd)
    }

    /// The response as bytes on the wire: status line, the handler's valid fields, then
    /// `Content-Type` (if none was given), `Content-Length`, `Date`, `Connection: close`, body.
    /// Fields with an invalid name or a CR, LF or NUL in the value are dropped, so no handler
    /// can split a response by echoing input into a header.
    static func serialize(_ response: HTTPResponse, headOnly: Bool) -> [UInt8] {
        let status = (100...999).contains(response.status) ? response.status : 500
        // RFC 9110 section 8.6: no content (nor its length) in 1xx, 204 and 304 responses.
        let hasContent = !((100..<200).contains(status) || status == 204 || status == 304)
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(for: status))\r\n"
        var hasType = false
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            if ["content-length", "connection", "transfer-encoding", "date"].contains(lower) { continue }
            guard HTTPRequestHead.isToken(name), !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else { continue }
            if lower == "content-type" { hasType = true }
            head += "\(name): \(value)\r\n"
        }
        if hasContent {
            if !hasType { head += "Content-Type: application/octet-stream\r\n" }
            head += "Content-Length: \(response.body.count)\r\n"
        }
        head += "Date: \(httpDate())\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if hasContent && !headOnly { bytes += response.body }
        return bytes
    }

    /// The current time in the IMF-fixdate form HTTP uses ("Sun, 06 Nov 1994 08:49:37 GMT").
    static func httpDate() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
