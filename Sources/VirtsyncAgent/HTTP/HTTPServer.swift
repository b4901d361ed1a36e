import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.x server for the agent's endpoint (health, status, metrics, webhook): one
/// request per connection, each connection on its own thread, never on Swift's cooperative pool.
///
/// It is built to face an untrusted network without help: at most `Limits.maxConnections`
/// connections at once (more are answered 503), the whole request must arrive within
/// `Limits.readTimeout` (408, so a slow client cannot pin threads), heads are bounded (431),
/// bodies are bounded (413) and must come with `Content-Length` (411), and anything a lenient
/// parser would have to guess at is refused (400). Every response says `Connection: close`.
///
/// The handler is async; each connection thread starts it in a task and blocks on a semaphore
/// until it returns, so a slow handler holds a connection thread, never a pool thread.
public final class HTTPServer: Sendable {
    /// The bounds the server holds every client to.
    public struct Limits: Sendable {
        /// Connections served at once; one more is answered 503 and closed.
        public var maxConnections: Int
        /// The request line and header fields together, in bytes (431 beyond).
        public var maxHeaderBytes: Int
        /// The request body, in bytes (413 beyond).
        public var maxBody: Int
        /// Seconds from accepting a connection until the whole request must have arrived (408 after).
        public var readTimeout: Double
        /// Seconds a client has to take the response off the server before it is dropped.
        public var writeTimeout: Double

        /// Limits with the defaults: 32 connections, 16 KiB heads, 1 MiB bodies, 5 s to read, 10 s to write.
        public init(maxConnections: Int = 32, maxHeaderBytes: Int = 16 * 1024, maxBody: Int = 1024 * 1024,
                    readTimeout: Double = 5, writeTimeout: Double = 10) {
            self.maxConnections = maxConnections
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBody = maxBody
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
        }
    }

    /// The host the server listens on, as given (`127.0.0.1`, `::1`, `localhost`).
    public let host: String
    /// The port the server listens on (the one the kernel picked when 0 was asked for).
    public let port: Int
    /// The bounds every client is held to.
    public let limits: Limits
    let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    let logger = Logger(label: "virtsync.agent")

    private let listener: Int32
    /// A socket pair (a pipe, as far as it is used) whose write end `stop()` writes to, waking the
    /// accept loop out of `poll`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state = HTTPLockedBox(State())
    private let acceptLoopExited = DispatchSemaphore(value: 0)

    private struct State: Sendable {
        var started = false
        var stopped = false
        var activeConnections = 0
    }

    /// Binds `host:port` and listens at once, so a busy port fails here, before the agent reports
    /// ready. `host` is an IPv4 literal, an IPv6 literal (`::1`, brackets allowed) or `localhost`
    /// (127.0.0.1); port 0 lets the kernel pick (read it back from `port`). Call `start()` to
    /// begin accepting. Throws `HTTPServerError` naming the address and the system's reason.
    /// `limits.maxConnections` below 1 is a programmer error.
    public init(host: String, port: Int, limits: Limits = Limits(),
                handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) throws {
        precondition(limits.maxConnections >= 1, "HTTPServer.Limits.maxConnections must be at least 1")
        let display = HTTPSocket.display(host: host, port: port)
        guard (0...65535).contains(port) else {
            throw HTTPServerError(address: display, reason: "port out of range", code: nil)
        }
        guard let address = HTTPSocketAddress(literal: host, port: port) else {
            throw HTTPServerError(address: display, reason: "not an IPv4 or IPv6 address, nor localhost", code: nil)
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError.fromErrno(address: display) }
        HTTPSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        var bound = address
        let failure: HTTPServerError? = {
            if address.withSockaddr({ bind(fd, $0, $1) }) != 0 { return .fromErrno(address: display) }
            if listen(fd, 128) != 0 { return .fromErrno(address: display) }
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &bound.storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            if named != 0 { return .fromErrno(address: display) }
            return nil
        }()
        if let failure {
            close(fd)
            throw failure
        }
        // Non-blocking, so an accept after poll never hangs when the client has already gone.
        HTTPSocket.setNonBlocking(fd)
        var pipeEnds: [Int32] = [-1, -1]
        let pairType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, pairType, 0, &pipeEnds) == 0 else {
            let error = HTTPServerError.fromErrno(address: display)
            close(fd)
            throw error
        }
        self.host = host
        self.port = bound.port
        self.limits = limits
        self.handler = handler
        self.listener = fd
        self.wakeRead = pipeEnds[0]
        self.wakeWrite = pipeEnds[1]
    }

    deinit {
        // A started server is kept alive by its accept thread until stopped, so only a server
        // that never started (or was stopped) gets here; the former still holds descriptors.
        if !state.withLock({ $0.stopped }) {
            close(listener)
            close(wakeRead)
            close(wakeWrite)
        }
    }

    /// Starts the accept loop on a dedicated thread. Calling it again, or after `stop()`, does nothing.
    public func start() {
        let starting = state.withLock { state in
            guard !state.started && !state.stopped else { return false }
            state.started = true
            return true
        }
        guard starting else { return }
        let thread = Thread { [self] in
            acceptLoop()
            acceptLoopExited.signal()
        }
        thread.name = "virtsync-http-accept"
        thread.start()
    }

    /// Stops accepting and closes the listening socket before returning, so a new connection is
    /// refused from then on. Requests already being served run to completion on their threads.
    /// Calling it again does nothing.
    public func stop() {
        let wasStarted: Bool? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.started
        }
        guard let wasStarted else { return }
        var byte: UInt8 = 1
        _ = send(wakeWrite, &byte, 1, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        // The accept thread must be out of poll/accept before the descriptor is closed, or the
        // number could be reused by another open and accepted on by mistake.
        if wasStarted { acceptLoopExited.wait() }
        close(listener)
        close(wakeRead)
        close(wakeWrite)
    }

    private func acceptLoop() {
        while true {
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, -1)
            if state.withLock({ $0.stopped }) || descriptors[1].revents != 0 { return }
            if ready < 0 {
                if errno != EINTR { usleep(10_000) }
                continue
            }
            guard descriptors[0].revents != 0 else { continue }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Self.acceptCloseOnExec(listener, $0, &length) }
            }
            guard client >= 0 else {
                let code = errno
                switch code {
                case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO:
                    break
                default:
                    // Out of descriptors or memory: back off instead of spinning on a listener
                    // that stays readable.
                    logger.warning("cannot accept a connection", metadata: ["error": "\(HTTPSocket.errnoText(code))"])
                    usleep(100_000)
                }
                continue
            }
            let peer = HTTPSocketAddress(storage: storage, length: length)
            admit(client, peerAddress: peer.ipText, peerIsLoopback: peer.isLoopback)
        }
    }

    private typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    /// glibc's `accept4`, which Swift's Glibc module hides (it is declared only under _GNU_SOURCE),
    /// looked up once in the process's global symbols.
    private static let accept4: Accept4? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "accept4") else { return nil }
        return unsafeBitCast(symbol, to: Accept4.self)
    }()

    /// Accepts a connection whose descriptor is close-on-exec and non-blocking from the start, so
    /// a child process spawned at that moment by another thread (libvirt, ssh-keygen) never
    /// inherits it. Falls back to accept plus fcntl if `accept4` cannot be found.
    private static func acceptCloseOnExec(_ listener: Int32, _ address: UnsafeMutablePointer<sockaddr>,
                                          _ length: UnsafeMutablePointer<socklen_t>) -> Int32 {
        if let accept4 {
            return accept4(listener, address, length, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        }
        let fd = accept(listener, address, length)
        if fd >= 0 {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            HTTPSocket.setNonBlocking(fd)
        }
        return fd
    }

    /// Serves `fd` on a thread of its own if a connection slot is free, else answers 503.
    private func admit(_ fd: Int32, peerAddress: String, peerIsLoopback: Bool) {
        let admitted = state.withLock { state in
            guard state.activeConnections < limits.maxConnections else { return false }
            state.activeConnections += 1
            return true
        }
        guard admitted else {
            rejectBusy(fd)
            return
        }
        let thread = Thread { [self] in
            serve(fd, peerAddress: peerAddress, peerIsLoopback: peerIsLoopback)
            state.withLock { $0.activeConnections -= 1 }
        }
        thread.name = "virtsync-http"
        thread.start()
    }

    /// Answers 503 without waiting for anything, on the accept thread: take whatever request
    /// bytes already arrived (so closing does not reset the connection), write what fits, close.
    /// A client whose request arrives after the close may see a reset instead of the 503.
    private func rejectBusy(_ fd: Int32) {
        var discarded: [UInt8] = []
        _ = HTTPSocket.read(fd, into: &discarded, maximum: 65536, until: .now)
        var response = HTTPResponse.text("too many connections\n", status: 503)
        response.headers["Retry-After"] = "1"
        _ = HTTPSocket.writeAll(fd, Self.serialize(response, headOnly: false), until: .now)
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }
}

/// Why `HTTPServer` could not listen: the address and the system's reason, as in
/// "cannot listen on 127.0.0.1:9479: Address already in use".
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// The address as `host:port` (`[::1]:9479` for IPv6).
    public let address: String
    /// Why, in words (the errno text when a system call failed).
    public let reason: String
    /// The errno value when a system call failed (EADDRINUSE, EACCES, ...), nil otherwise.
    public let code: Int32?

    /// An error for `address` with `reason`.
    public init(address: String, reason: String, code: Int32?) {
        self.address = address
        self.reason = reason
        self.code = code
    }

    /// "cannot listen on <address>: <reason>".
    public var description: String { "cannot listen on \(address): \(reason)" }

    static func fromErrno(address: String) -> HTTPServerError {
        let code = errno
        return HTTPServerError(address: address, reason: HTTPSocket.errnoText(code), code: code)
    }
}
