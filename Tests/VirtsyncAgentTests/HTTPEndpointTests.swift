import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import VirtsyncAgent
import VirtsyncHTTP
import VirtsyncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The agent's HTTP endpoint (Hummingbird) and client (AsyncHTTPClient) over real sockets on
/// loopback; clients that must misbehave (slow, oversized) are raw sockets. What only a peer on
/// another machine can see (the bearer token) is driven through HummingbirdTesting's router
/// framework, whose requests come from no address.
@Suite("HTTP endpoint")
struct HTTPEndpointTests {
    static let logger = Logger(label: "test.http")

    /// A started endpoint on 127.0.0.1 with a free port; stopped when `body` returns.
    @discardableResult
    static func withEndpoint<Result>(_ configure: (inout HTTPEndpointConfiguration) -> Void = { _ in },
                                     handler: @escaping @Sendable (EndpointRequest) async -> EndpointResponse = { _ in .text("ok\n") },
                                     _ body: (HTTPEndpoint) async throws -> Result) async throws -> Result {
        var configuration = HTTPEndpointConfiguration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let endpoint = try await HTTPEndpoint.start(configuration, logger: logger, handler: handler)
        do {
            let result = try await body(endpoint)
            await endpoint.stop()
            return result
        } catch {
            await endpoint.stop()
            throw error
        }
    }

    static func send(host: String = "127.0.0.1", port: Int, method: String, path: String, headers: [String: String] = [:],
                     body: [UInt8] = [], timeout: Duration = .seconds(10), trust: String? = nil) async throws -> EndpointResponse {
        try await EndpointClient.send(.init(host: host, port: port, trustCertificateFile: trust), method: method, path: path,
                                      headers: headers, body: body, timeout: timeout)
    }

    @Test("a GET reaches the handler with path, decoded query, lower-cased headers and a loopback peer")
    func getWithQuery() async throws {
        let seen = RequestLog()
        try await Self.withEndpoint(handler: { request in
            await seen.record(request)
            return .text("hello\n")
        }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "GET", path: "/status?wait=1&name=a%20b+c&flag",
                                               headers: ["X-Virtsync-Reason": "Test"])
            #expect(response.status == 200)
            #expect(response.bodyText == "hello\n")
            #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(response.headers["content-length"] == "6")
            let request = try #require(await seen.requests.first)
            #expect(request.method == "GET")
            #expect(request.path == "/status")
            #expect(request.query["wait"] == "1")
            #expect(request.query["name"] == "a b+c" || request.query["name"] == "a b c")
            #expect(request.query["flag"] == "")
            #expect(request.headers["x-virtsync-reason"] == "Test")
            #expect(request.headers["host"]?.hasPrefix("127.0.0.1") == true)
            #expect(request.peerIsLoopback)
            #expect(request.peerAddress == "127.0.0.1")
            #expect(request.body.isEmpty)
        }
    }

    @Test("a POST body arrives whole and the handler's answer comes back")
    func postBody() async throws {
        try await Self.withEndpoint(handler: { request in .json(request.body.reversed(), status: 201) }) { endpoint in
            let body = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let response = try await Self.send(port: endpoint.port, method: "POST", path: "/webhook", body: body)
            #expect(response.status == 201)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body == body.reversed())
        }
    }

    @Test("a 404 from the handler passes through with its headers and body")
    func notFound() async throws {
        try await Self.withEndpoint(handler: { _ in
            var response = EndpointResponse.text("no such page\n", status: 404)
            response.headers["X-Extra"] = "yes"
            return response
        }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "GET", path: "/nowhere")
            #expect(response.status == 404)
            #expect(response.headers["x-extra"] == "yes")
            #expect(response.bodyText == "no such page\n")
        }
    }

    @Test("HEAD gets the length of the body but not the body")
    func head() async throws {
        try await Self.withEndpoint(handler: { _ in .text("twelve bytes") }) { endpoint in
            let connection = try RawConnection(port: endpoint.port)
            connection.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = await connection.readAll()
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(answer.lowercased().contains("content-length: 12\r\n"))
            #expect(answer.hasSuffix("\r\n\r\n"), "no body after the head: \(answer)")
        }
    }

    @Test("a body over the limit is answered 413 without calling the handler")
    func bodyTooLarge() async throws {
        let seen = RequestLog()
        try await Self.withEndpoint({ $0.maxBody = 1000 }, handler: { request in
            await seen.record(request)
            return .text("ok\n")
        }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "POST", path: "/webhook", body: Array(repeating: 65, count: 5000))
            #expect(response.status == 413)
            #expect(await seen.requests.isEmpty)
            // The limit itself is allowed.
            let fits = try await Self.send(port: endpoint.port, method: "POST", path: "/webhook", body: Array(repeating: 65, count: 1000))
            #expect(fits.status == 200)
        }
    }

    @Test("a head over the limit is refused (400) and the connection closed")
    func headTooLarge() async throws {
        try await Self.withEndpoint({ $0.maxHeaderBytes = 4096 }) { endpoint in
            let connection = try RawConnection(port: endpoint.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n")
            let answer = await connection.readAll()
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(200))")
        }
    }

    @Test("a client that stops sending is disconnected at the idle timeout, and holds no thread meanwhile")
    func idleTimeout() async throws {
        try await Self.withEndpoint({ $0.idleTimeout = .milliseconds(300) }) { endpoint in
            let slow = try RawConnection(port: endpoint.port)
            slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")  // never finished
            // Others are served while it dawdles.
            let other = try await Self.send(port: endpoint.port, method: "GET", path: "/healthz")
            #expect(other.status == 200)
            // Timed on the reading thread: a busy cooperative pool (other suites run beside this
            // one) may resume this task late, which says nothing about the server.
            let (answer, closed, waited) = await slow.readUntilClosed()
            #expect(!answer.hasPrefix("HTTP/1.1 200"))
            // Closed by the server (the read gives up after 5 s of silence otherwise).
            #expect(closed && waited < .seconds(4), "closed by the server: \(closed), after \(waited)")
        }
    }

    @Test("many concurrent clients are all answered, each with its own response")
    func concurrentClients() async throws {
        try await Self.withEndpoint(handler: { request in
            try? await Task.sleep(for: .milliseconds(20))
            return .text(request.query["n"] ?? "?")
        }) { endpoint in
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for n in 0..<64 {
                    group.addTask { (n, try await Self.send(port: endpoint.port, method: "GET", path: "/x?n=\(n)").bodyText) }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 64)
            #expect(answers.allSatisfy { $0.value == String($0.key) })
        }
    }

    @Test("after stop() a new connection is refused, with the address in the client's error")
    func stopRefuses() async throws {
        let endpoint = try await HTTPEndpoint.start(.init(host: "127.0.0.1", port: 0), logger: Self.logger) { _ in .text("ok\n") }
        let port = endpoint.port
        #expect(try await Self.send(port: port, method: "GET", path: "/").status == 200)
        await endpoint.stop()
        let started = ContinuousClock.now
        await #expect {
            try await Self.send(port: port, method: "GET", path: "/", timeout: .seconds(20))
        } throws: { error in
            "\(error)".contains("127.0.0.1:\(port)") && "\(error)".contains("refused")
        }
        // A refused connection fails at once, not at the timeout.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("a busy port, or an address this machine does not have, fails start with the address and the reason")
    func busyPort() async throws {
        try await Self.withEndpoint { first in
            await #expect {
                try await HTTPEndpoint.start(.init(host: "127.0.0.1", port: first.port), logger: Self.logger) { _ in .text("ok\n") }
            } throws: { error in
                "\(error)" == "cannot listen on 127.0.0.1:\(first.port): Address already in use"
            }
        }
        // 192.0.2.1 is TEST-NET-1 (documentation only): never assigned here, and nothing is sent.
        await #expect {
            try await HTTPEndpoint.start(.init(host: "192.0.2.1", port: 0), logger: Self.logger) { _ in .text("ok\n") }
        } throws: { error in
            "\(error)".hasPrefix("cannot listen on 192.0.2.1:0: ")
        }
    }

    @Test("IPv6 loopback and localhost listen too, and their peers count as this host")
    func ipv6AndLocalhost() async throws {
        for host in ["::1", "localhost"] {
            let endpoint: HTTPEndpoint
            do {
                endpoint = try await HTTPEndpoint.start(.init(host: host, port: 0), logger: Self.logger) { request in
                    .text("\(request.peerAddress) \(request.peerIsLoopback)")
                }
            } catch {
                // A machine without IPv6 on loopback cannot test this address.
                if host == "::1" { continue }
                throw error
            }
            let response = try await Self.send(host: host == "::1" ? "::1" : "127.0.0.1", port: endpoint.port, method: "GET", path: "/")
            #expect(response.bodyText.hasSuffix(" true"), "\(host): \(response.bodyText)")
            await endpoint.stop()
        }
    }

    @Test("the client gives up at its timeout when the server never answers")
    func clientTimeout() async throws {
        try await Self.withEndpoint(handler: { _ in
            try? await Task.sleep(for: .seconds(5))
            return .text("late\n")
        }) { endpoint in
            let started = ContinuousClock.now
            await #expect {
                try await Self.send(port: endpoint.port, method: "GET", path: "/", timeout: .milliseconds(300))
            } throws: { error in
                "\(error)".hasPrefix("no complete response from 127.0.0.1:\(endpoint.port)")
            }
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test("peers on other machines need the bearer token, except on the open paths; this host's peers need none")
    func bearerToken() async throws {
        let configuration = HTTPEndpointConfiguration(host: "127.0.0.1", port: 0, bearerToken: Array("s3cret-token".utf8),
                                                      openPaths: ["/healthz", "/webhook"])
        let app = try HTTPEndpoint.application(configuration, logger: Self.logger) { request in .text("\(request.path)\n") }
        // The router framework's requests come from no address: a peer that is not this host.
        try await app.test(.router) { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"virtsync\"")
            }
            try await client.execute(uri: "/status", method: .get, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/status", method: .get, headers: [.authorization: "Basic czNjcmV0LXRva2Vu"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/status", method: .get, headers: [.authorization: "bearer s3cret-token"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "/status\n")
            }
            for open in ["/healthz", "/webhook"] {
                try await client.execute(uri: open, method: .get) { response in
                    #expect(response.status == .ok, "\(open)")
                }
            }
        }
        // From this host, no token is asked for.
        try await Self.withEndpoint({ $0.bearerToken = Array("s3cret-token".utf8) }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "GET", path: "/status")
            #expect(response.status == 200)
        }
    }

    @Test("TLS: a client trusting the certificate gets through, a plain-HTTP client does not")
    func tls() async throws {
        let scratch = try ScratchDirectory(prefix: "tls")
        let certificate = scratch.path("cert.pem"), key = scratch.path("key.pem")
        try await Command.check("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                            "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=virtsync-test",
                                            "-addext", "subjectAltName=DNS:virtsync-test"])
        try await Self.withEndpoint({ $0.tls = .init(certificateFile: certificate, keyFile: key) }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "GET", path: "/healthz", trust: certificate)
            #expect(response.status == 200)
            #expect(response.bodyText == "ok\n")
            await #expect(throws: EndpointClientError.self) {
                try await Self.send(port: endpoint.port, method: "GET", path: "/healthz", timeout: .seconds(3))
            }
        }
        // A key that is not there fails start, naming TLS.
        await #expect {
            try await HTTPEndpoint.start(.init(host: "127.0.0.1", port: 0, tls: .init(certificateFile: certificate, keyFile: scratch.path("none.pem"))),
                                         logger: Self.logger) { _ in .text("ok\n") }
        } throws: { error in
            "\(error)".hasPrefix("cannot listen on 127.0.0.1:0: TLS: ")
        }
    }

    @Test("the agent's metrics, served through the endpoint, pass promtool's check and read back")
    func scrapeMetrics() async throws {
        let metrics = AgentMetrics(version: "9.9.9")
        metrics.step(.create, outcome: "succeeded")
        metrics.step(.create, outcome: "succeeded")
        try await Self.withEndpoint(handler: { _ in .text(metrics.render()) }) { endpoint in
            let response = try await Self.send(port: endpoint.port, method: "GET", path: "/metrics")
            let scrape = Exposition(response.bodyText)
            let lint = try await scrape.promtool()
            #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
            #expect(scrape.value("virtsync_steps_total", ["action": "create", "outcome": "succeeded"]) == 2)
            #expect(scrape.value("virtsync_build_info", ["version": "9.9.9"]) == 1)
            #expect(scrape.value("virtsync_ready") == 0)
        }
    }
}

/// The requests a handler saw.
private actor RequestLog {
    var requests: [EndpointRequest] = []

    func record(_ request: EndpointRequest) {
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

    /// Reads until the server closes (or resets) the connection, or 5 s of silence: what arrived,
    /// whether the server ended it, and how long that took on the reading thread.
    func readUntilClosed() async -> (String, closed: Bool, waited: Duration) {
        let fd = fd
        let box = Locked<(Bool, Duration)>((false, .zero))
        let text = await Self.offPool {
            let clock = ContinuousClock()
            let started = clock.now
            var all: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            var closed = false
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { all += buffer[..<count]; continue }
                closed = count == 0 || errno == ECONNRESET
                break
            }
            let waited = started.duration(to: clock.now)
            box.withLock { $0 = (closed, waited) }
            return String(decoding: all, as: UTF8.self)
        }
        let (closed, waited) = box.withLock { $0 }
        return (text, closed, waited)
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
