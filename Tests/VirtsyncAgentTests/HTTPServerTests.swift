import Foundation
import Testing
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncTesting
import VirtsyncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The agent's HTTP server and client over real sockets on 127.0.0.1. Clients that must
/// misbehave (slow, oversized, garbage) are raw sockets.
@Suite("HTTP server")
struct HTTPServerTests {
    /// A started server on 127.0.0.1 with a free port; stopped when `body` returns.
    static func withServer<Result>(limits: HTTPServer.Limits = .init(),
                                   handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse = { _ in .text("ok\n") },
                                   _ body: (HTTPServer) async throws -> Result) async throws -> Result {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: handler)
        server.start()
        defer { server.stop() }
        return try await body(server)
    }

    @Test("a GET reaches the handler with path, decoded query, lower-cased headers and a loopback peer")
    func getWithQuery() async throws {
        let seen = RequestLog()
        try await Self.withServer(handler: { request in
            await seen.record(request)
            return .text("hello\n")
        }) { server in
            let response = try await Self.send(port: server.port, method: "GET", path: "/status?wait=1&name=a%20b+c&flag",
                                               headers: ["X-Virtsync-Reason": "Test"])
            #expect(response.status == 200)
            #expect(response.bodyText == "hello\n")
            #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(response.headers["content-length"] == "6")
            #expect(response.headers["connection"] == "close")
            let request = try #require(await seen.requests.first)
            #expect(request.method == "GET")
            #expect(request.path == "/status")
            #expect(request.query == ["wait": "1", "name": "a b c", "flag": ""])
            #expect(request.headers["x-virtsync-reason"] == "Test")
            #expect(request.headers["host"] == "127.0.0.1:\(server.port)")
            #expect(request.peerIsLoopback)
            #expect(request.peerAddress == "127.0.0.1")
            #expect(request.body.isEmpty)
        }
    }

    @Test("a POST body arrives whole and the handler's answer comes back")
    func postBody() async throws {
        try await Self.withServer(handler: { request in .json(request.body.reversed(), status: 201) }) { server in
            let body = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let response = try await Self.send(port: server.port, method: "POST", path: "/webhook", body: body)
            #expect(response.status == 201)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body == body.reversed())
        }
    }

    @Test("a 404 from the handler passes through with its headers and body")
    func notFoundPassesThrough() async throws {
        try await Self.withServer(handler: { _ in
            var response = HTTPResponse.text("no such page\n", status: 404)
            response.headers["X-Extra"] = "1"
            response.headers["Bad-Header"] = "a\r\nInjected: yes"
            return response
        }) { server in
            let response = try await Self.send(port: server.port, method: "GET", path: "/nope")
            #expect(response.status == 404)
            #expect(response.bodyText == "no such page\n")
            #expect(response.headers["x-extra"] == "1")
            #expect(response.headers["bad-header"] == nil && response.headers["injected"] == nil)
        }
    }

    @Test("HEAD gets the length of the body but not the body")
    func head() async throws {
        try await Self.withServer(handler: { _ in .text("0123456789") }) { server in
            let raw = try RawConnection(port: server.port)
            raw.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let text = await raw.readAll()
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("Content-Length: 10\r\n"))
            #expect(text.hasSuffix("\r\n\r\n"))
        }
    }

    @Test("a body over the limit is answered 413 without calling the handler")
    func oversizedBody() async throws {
        let seen = RequestLog()
        try await Self.withServer(limits: .init(maxBody: 1024), handler: { request in
            await seen.record(request)
            return .text("ok\n")
        }) { server in
            let raw = try RawConnection(port: server.port)
            raw.send("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n")
            #expect(await raw.readAll().hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
            // A client that sends the whole body anyway still reads the 413.
            let response = try await Self.send(port: server.port, method: "POST", path: "/webhook", body: Array(repeating: 1, count: 200_000))
            #expect(response.status == 413)
            // Exactly at the limit is fine.
            let fits = try await Self.send(port: server.port, method: "POST", path: "/webhook", body: Array(repeating: 1, count: 1024))
            #expect(fits.status == 200)
            #expect(await seen.requests.count == 1)
        }
    }

    @Test("a head over 16 KiB is answered 431")
    func oversizedHead() async throws {
        try await Self.withServer { server in
            let raw = try RawConnection(port: server.port)
            raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 17 * 1024))\r\n\r\n")
            #expect(await raw.readAll().hasPrefix("HTTP/1.1 431 "))
            // A head that never ends is cut off the same way.
            let endless = try RawConnection(port: server.port)
            endless.send("GET /" + String(repeating: "a", count: 20 * 1024))
            #expect(await endless.readAll().hasPrefix("HTTP/1.1 431 "))
        }
    }

    @Test("a client too slow to send its request gets 408 at the read deadline")
    func slowClient() async throws {
        try await Self.withServer(limits: .init(readTimeout: 0.3)) { server in
            let started = ContinuousClock.now
            let raw = try RawConnection(port: server.port)
            raw.send("GET / HTTP/1.1\r\nHost: x\r\n")
            // Trickling more bytes does not extend the deadline.
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(100))
                raw.send("X: y\r\n")
            }
            #expect(await raw.readAll().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
            // Loose: the agent tests beside this one hold Swift's threads with child processes,
            // and this measures the test's own wake-up as much as the server's deadline.
            #expect(ContinuousClock.now - started < .seconds(5))
            // A client that sends nothing at all is timed out too.
            let silent = try RawConnection(port: server.port)
            #expect(await silent.readAll().hasPrefix("HTTP/1.1 408 "))
            // And a body that stops short of its Content-Length.
            let short = try RawConnection(port: server.port)
            short.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            #expect(await short.readAll().hasPrefix("HTTP/1.1 408 "))
        }
    }

    @Test("malformed requests are answered with the matching 4xx/5xx", arguments: [
        ("HELLO\r\n\r\n", 400),
        ("\u{01}\u{02}\u{03}\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),  // no Host
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET relative HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
        ("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("GET / HTTP/1.1\r\nHost: x\r\n", 400),  // closed inside the head
    ])
    func malformed(_ request: String, _ status: Int) async throws {
        let seen = RequestLog()
        try await Self.withServer(handler: { request in
            await seen.record(request)
            return .text("ok\n")
        }) { server in
            let raw = try RawConnection(port: server.port)
            raw.send(request)
            raw.shutdownWrite()
            #expect(await raw.readAll().hasPrefix("HTTP/1.1 \(status) "))
            #expect(await seen.requests.isEmpty)
        }
    }

    @Test("HTTP/1.0 without Host, absolute targets and bare-LF lines are understood")
    func lenientWhereSafe() async throws {
        try await Self.withServer(handler: { request in .text("\(request.path) \(request.query)") }) { server in
            for (request, expected) in [("GET /a?x=1 HTTP/1.0\r\n\r\n", "/a [\"x\": \"1\"]"),
                                        ("GET http://h:1/b HTTP/1.1\r\nHost: h:1\r\n\r\n", "/b [:]"),
                                        ("GET /c HTTP/1.1\nHost: x\n\n", "/c [:]")] {
                let raw = try RawConnection(port: server.port)
                raw.send(request)
                let text = await raw.readAll()
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(request)")
                #expect(text.hasSuffix("\r\n\r\n" + expected), "\(request)")
            }
        }
    }

    @Test("Expect: 100-continue gets an interim 100 before the body is sent")
    func expectContinue() async throws {
        try await Self.withServer(handler: { request in .text(String(decoding: request.body, as: UTF8.self)) }) { server in
            let raw = try RawConnection(port: server.port)
            raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            #expect(await raw.readSome().hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
            raw.send("hello")
            let text = await raw.readAll()
            #expect(text.contains("HTTP/1.1 200 OK\r\n") && text.hasSuffix("\r\n\r\nhello"))
        }
    }

    @Test("many concurrent clients are all answered, each with its own response")
    func concurrentClients() async throws {
        try await Self.withServer(handler: { request in
            try? await Task.sleep(for: .milliseconds(20))
            return .text(request.path)
        }) { server in
            let port = server.port
            let results = await withTaskGroup(of: (Int, Int, String).self) { group in
                for client in 0..<30 {
                    group.addTask {
                        let response = try? await Self.send(port: port, method: "GET", path: "/client/\(client)")
                        return (client, response?.status ?? 0, response?.bodyText ?? "")
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 30)
            for (client, status, body) in results {
                #expect(status == 200 && body == "/client/\(client)")
            }
        }
    }

    @Test("beyond maxConnections a client is answered 503 at once")
    func connectionLimit() async throws {
        try await Self.withServer(limits: .init(maxConnections: 1, readTimeout: 2)) { server in
            let holder = try RawConnection(port: server.port)
            holder.send("GET / HTTP/1.1\r\n")  // and nothing more: holds the only slot
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            let rejected = try RawConnection(port: server.port)
            #expect(await rejected.readAll().hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
            // Before the holder's 2 s read deadline frees the slot (then it would be served).
            #expect(ContinuousClock.now - started < .milliseconds(1900))
            holder.close()
        }
    }

    @Test("after stop() a new connection is refused, with the address in the error")
    func stopRefuses() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("ok\n") }
        server.start()
        let port = server.port
        #expect(try await Self.send(port: port, method: "GET", path: "/").status == 200)
        let started = ContinuousClock.now
        server.stop()
        #expect(ContinuousClock.now - started < .seconds(1))
        server.stop()  // a second stop does nothing
        await #expect {
            try await Self.send(port: port, method: "GET", path: "/")
        } throws: { error in
            "\(error)" == "cannot connect to 127.0.0.1:\(port): Connection refused"
        }
    }

    @Test("a busy port fails at init, naming the address")
    func busyPort() throws {
        let first = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("ok\n") }
        defer { first.stop() }
        #expect {
            try HTTPServer(host: "127.0.0.1", port: first.port) { _ in .text("ok\n") }
        } throws: { error in
            "\(error)" == "cannot listen on 127.0.0.1:\(first.port): Address already in use"
        }
        #expect(throws: HTTPServerError.self) { try HTTPServer(host: "example.com", port: 0) { _ in .text("") } }
    }

    @Test("IPv6 loopback and localhost listen too")
    func otherHosts() async throws {
        for host in ["::1", "localhost"] {
            let server: HTTPServer
            do {
                server = try HTTPServer(host: host, port: 0) { request in .text(request.peerAddress) }
            } catch let error as HTTPServerError where error.code == EADDRNOTAVAIL {
                continue  // no IPv6 loopback in this container
            }
            server.start()
            defer { server.stop() }
            let port = server.port
            let response = try await Self.send(host: host, port: port, method: "GET", path: "/")
            #expect(response.bodyText == (host == "::1" ? "::1" : "127.0.0.1"))
        }
    }

    @Test("the client gives up at its timeout when the server never answers")
    func clientTimeout() async throws {
        // Listening but never accepting: the kernel completes the handshake, nobody answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try #require(bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0)
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let started = ContinuousClock.now
        await #expect {
            try await Self.send(port: port, method: "GET", path: "/", timeout: 0.3)
        } throws: { error in
            "\(error)".hasPrefix("no complete response from 127.0.0.1:\(port)")
        }
        // Without the timeout it would wait forever; loose, for the threads the agent tests hold.
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("the agent's metrics, served by a handler, pass promtool's check and read back")
    func scrapeMetrics() async throws {
        let metrics = AgentMetrics(version: "9.9.9")
        metrics.step(.create, outcome: "succeeded")
        metrics.step(.create, outcome: "succeeded")
        try await Self.withServer(handler: { _ in .text(metrics.render()) }) { server in
            let response = try await Self.send(port: server.port, method: "GET", path: "/metrics")
            let scrape = Exposition(response.bodyText)
            let lint = try scrape.promtool()
            #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
            #expect(scrape.value("virtsync_steps_total", ["action": "create", "outcome": "succeeded"]) == 2)
            #expect(scrape.value("virtsync_build_info", ["version": "9.9.9"]) == 1)
            #expect(scrape.value("virtsync_ready") == 0)
        }
    }

    /// `HTTPClient.send` off the cooperative pool (it blocks its thread).
    static func send(host: String = "127.0.0.1", port: Int, method: String, path: String, headers: [String: String] = [:],
                     body: [UInt8] = [], timeout: Double = 10) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try HTTPClient.send(host: host, port: port, method: method, path: path, headers: headers, body: body, timeout: timeout)
                })
            }.start()
        }
    }
}

/// The requests a handler saw.
private actor RequestLog {
    var requests: [HTTPRequest] = []

    func record(_ request: HTTPRequest) {
        requests.append(request)
    }
}

/// A blocking TCP connection to 127.0.0.1 that writes exactly what a test says, for clients that
/// misbehave. Reads give up after 5 s so a broken server fails the test rather than hanging it.
private final class RawConnection {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }  // the server may already have answered and closed
            offset += sent
        }
    }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// One read's worth (read on a thread of its own: blocking the cooperative pool here could
    /// starve the very handler the test waits for).
    func readSome() async -> String {
        let fd = fd
        return await Self.offPool {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        }
    }

    /// Everything until the server closes (or 5 s of silence, or a reset), read off the pool.
    func readAll() async -> String {
        let fd = fd
        return await Self.offPool {
            var all: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                all += buffer[..<count]
            }
            return String(decoding: all, as: UTF8.self)
        }
    }

    private static func offPool(_ body: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
