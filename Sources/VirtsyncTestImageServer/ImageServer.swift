import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import Logging

/// A small HTTP server on 127.0.0.1 that serves files for image tests, with the behaviour a
/// test needs to provoke: `Range` requests honoured (or ignored), a connection broken off after
/// some bytes, and a count of requests per path.
public final class ImageServer: Sendable {
    /// How the server treats requests.
    public struct Behaviour: Sendable {
        /// Break the first `n` responses off after `bytes` bytes of body (the client sees the
        /// connection close before the announced length).
        public var breakFirst: Int = 0
        public var breakAfterBytes: Int = 0
        /// Answer every request with the whole file (status 200), ignoring `Range`.
        public var ignoreRange = false

        public init(breakFirst: Int = 0, breakAfterBytes: Int = 0, ignoreRange: Bool = false) {
            self.breakFirst = breakFirst
            self.breakAfterBytes = breakAfterBytes
            self.ignoreRange = ignoreRange
        }
    }

    /// What the server saw.
    public struct Request: Sendable, Equatable {
        public var path: String
        /// The `Range` header, when there was one.
        public var range: String?
    }

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var files: [String: [UInt8]] = [:]
        var behaviour = Behaviour()
        var broken = 0
        var requests: [Request] = []
    }

    /// The port it listens on.
    public let port: Int
    private let state: State
    private let task: Task<Void, any Error>

    private init(port: Int, state: State, task: Task<Void, any Error>) {
        self.port = port
        self.state = state
        self.task = task
    }

    /// `http://127.0.0.1:PORT/NAME`.
    public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// Serves `bytes` at `/name`.
    public func serve(_ name: String, _ bytes: [UInt8]) {
        state.lock.withLock { state.files[name] = bytes }
    }

    /// Changes the behaviour (and resets the count of broken responses).
    public func set(_ behaviour: Behaviour) {
        state.lock.withLock {
            state.behaviour = behaviour
            state.broken = 0
        }
    }

    /// The requests seen so far.
    public var requests: [Request] { state.lock.withLock { state.requests } }

    /// Starts a server on 127.0.0.1 with a port the kernel picks.
    public static func start() async throws -> ImageServer {
        let state = State()
        let router = Router()
        router.get("/{name}") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let range = request.headers[.range]
            let (file, behaviour, breakThis): ([UInt8]?, Behaviour, Bool) = state.lock.withLock {
                state.requests.append(Request(path: "/" + name, range: range))
                let b = state.behaviour
                let breakThis = state.broken < b.breakFirst
                if breakThis { state.broken += 1 }
                return (state.files[name], b, breakThis)
            }
            guard let file else { return Response(status: .notFound) }
            var start = 0
            var status = HTTPResponse.Status.ok
            var headers = HTTPFields()
            if let range, !behaviour.ignoreRange, range.hasPrefix("bytes="), range.hasSuffix("-"),
               let from = Int(range.dropFirst(6).dropLast()) {
                guard from < file.count else {
                    headers[.contentRange] = "bytes */\(file.count)"
                    return Response(status: .rangeNotSatisfiable, headers: headers)
                }
                start = from
                status = .partialContent
                headers[.contentRange] = "bytes \(from)-\(file.count - 1)/\(file.count)"
            }
            let body = Array(file[start...])
            headers[.contentLength] = String(body.count)
            let cut = breakThis ? min(behaviour.breakAfterBytes, body.count) : body.count
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                var offset = 0
                while offset < cut {
                    let end = min(cut, offset + 64 * 1024)
                    try await writer.write(ByteBuffer(bytes: body[offset..<end]))
                    offset = end
                }
                if breakThis { throw CancellationError() }
                try await writer.finish(nil)
            })
        }
        let (started, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "virtsync.test.image-server")
        logger.logLevel = .critical
        let app = Application(router: router,
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.runService(gracefulShutdownSignals: [])
        }
        for await port in started where port > 0 {
            return ImageServer(port: port, state: state, task: task)
        }
        task.cancel()
        throw CancellationError()
    }

    /// Stops the server.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}
