import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// What an `HTTPEndpoint` listens on and holds its clients to.
public struct HTTPEndpointConfiguration: Sendable {
    /// The certificate chain and private key (PEM files) of a TLS listener.
    public struct TLSFiles: Sendable, Equatable {
        /// The certificate, followed by any intermediates, PEM.
        public var certificateFile: String
        /// The certificate's private key, PEM.
        public var keyFile: String

        /// TLS with the certificate chain in `certificateFile` and its key in `keyFile`.
        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// The address to bind: an IPv4 or IPv6 literal (`127.0.0.1`, `::1`) or `localhost`.
    public var host: String
    /// The port; 0 lets the kernel pick one (read it back from `HTTPEndpoint.port`).
    public var port: Int
    /// The largest request body accepted; a larger one is answered 413 and the handler is not called.
    public var maxBody: Int
    /// The request line and header fields together, in bytes; more is answered 400 and the
    /// connection closed (the HTTP parser's limit).
    public var maxHeaderBytes: Int
    /// A connection on which nothing arrives for this long is closed (an idle keep-alive
    /// connection, or a client too slow to send its request).
    public var idleTimeout: Duration
    /// TLS, when the endpoint should speak HTTPS.
    public var tls: TLSFiles?
    /// The token a peer that is not on this host must send (`Authorization: Bearer TOKEN`) for
    /// every path outside `openPaths`; nil: none is asked for.
    public var bearerToken: [UInt8]?
    /// The token that also grants the write endpoints (`Authorization: Bearer TOKEN`); it is
    /// accepted for reads too. nil: writes only from this host.
    public var writeToken: [UInt8]?
    /// The paths that need no token: health probes, and a webhook that checks a signature of its own.
    public var openPaths: Set<String>

    /// An endpoint on `host:port` with the defaults: 1 MiB bodies, 16 KiB heads, 5 s idle timeout, no TLS, no token.
    public init(host: String, port: Int, maxBody: Int = 1024 * 1024, maxHeaderBytes: Int = 16 * 1024,
                idleTimeout: Duration = .seconds(5), tls: TLSFiles? = nil, bearerToken: [UInt8]? = nil,
                openPaths: Set<String> = [], writeToken: [UInt8]? = nil) {
        self.host = host
        self.port = port
        self.maxBody = maxBody
        self.maxHeaderBytes = maxHeaderBytes
        self.idleTimeout = idleTimeout
        self.tls = tls
        self.bearerToken = bearerToken
        self.openPaths = openPaths
        self.writeToken = writeToken
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var display: String { Self.display(host: host, port: port) }

    /// `host:port`, with brackets around an IPv6 host (`[::1]:9479`).
    public static func display(host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The agent's HTTP endpoint, served by Hummingbird (SwiftNIO): each request is turned into a
/// plain `EndpointRequest`, given to the handler, and its `EndpointResponse` written back.
///
/// It is built to face a network: bodies and heads are bounded, idle connections are closed,
/// every request carries its peer's address (so a handler can keep a path to this host), a
/// bearer token can be required of peers on other machines, and TLS is available. Connections
/// cost a socket, not a thread: a slow client holds no thread while it dawdles.
///
/// `start` returns once the socket listens, so a busy port fails there, before the agent reports
/// ready; `stop` shuts the server down gracefully (requests in flight are answered).
public final class HTTPEndpoint: Sendable {
    /// The configuration it was started with.
    public let configuration: HTTPEndpointConfiguration
    /// The port it listens on (the one the kernel picked when 0 was asked for).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    private init(configuration: HTTPEndpointConfiguration, port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.configuration = configuration
        self.port = port
        self.group = group
        self.task = task
    }

    /// Binds, listens and starts serving; returns once the socket accepts connections.
    /// - Throws: `HTTPEndpointError` naming the address and the reason (a busy port, an address
    ///   this machine does not have, an unreadable certificate or key).
    public static func start(_ configuration: HTTPEndpointConfiguration, logger: Logger,
                             handler: @escaping @Sendable (EndpointRequest) async -> EndpointResponse) async throws -> HTTPEndpoint {
        let display = configuration.display
        guard (0...65535).contains(configuration.port) else {
            throw HTTPEndpointError(address: display, reason: "port out of range")
        }
        let (started, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let application = try application(configuration, logger: logger, onServerRunning: { channel in
            continuation.yield(.success(channel.localAddress?.port ?? configuration.port))
        }, handler: handler)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [],
                                                                          logger: logger))
        let task = Task {
            do {
                try await group.run()
                continuation.yield(.failure(HTTPEndpointError(address: display, reason: "the server stopped before it listened")))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await outcome in started {
            switch outcome {
            case .success(let port):
                return HTTPEndpoint(configuration: configuration, port: port, group: group, task: task)
            case .failure(let error):
                throw (error as? HTTPEndpointError) ?? HTTPEndpointError(address: display, reason: describe(error))
            }
        }
        throw HTTPEndpointError(address: display, reason: "the server stopped before it listened")
    }

    /// The Hummingbird application `start` runs: the endpoint's responder behind an HTTP/1.1
    /// server (with TLS when configured). Tests drive it with HummingbirdTesting.
    /// - Throws: `HTTPEndpointError` when the certificate or key cannot be read.
    public static func application(_ configuration: HTTPEndpointConfiguration, logger: Logger,
                                   onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
                                   handler: @escaping @Sendable (EndpointRequest) async -> EndpointResponse) throws -> Application<EndpointResponder> {
        let idle = configuration.idleTimeout.components
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: configuration.maxHeaderBytes,
                                            maxHeaderListSize: configuration.maxHeaderBytes)))
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            do {
                server = try .tls(http1, tlsConfiguration: try serverTLS(tls))
            } catch {
                throw HTTPEndpointError(address: configuration.display, reason: "TLS: \(describe(error))")
            }
        } else {
            server = http1
        }
        return Application(
            responder: EndpointResponder(configuration: configuration, handler: handler),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: nil, reuseAddress: true),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(serverLoops),
            logger: logger)
    }

    /// The endpoint's own event loop: the process's other NIO users (image downloads, the HTTP
    /// and gRPC clients) share the singleton group, and work of theirs on a loop must never hold
    /// up a health check or the idle timer that closes a stalled client.
    static let serverLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Stops accepting connections, answers the requests in flight, and returns when the server is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// A server TLS configuration from PEM files.
    private static func serverTLS(_ files: HTTPEndpointConfiguration.TLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw HTTPEndpointError(address: files.certificateFile, reason: "no certificate in the file") }
        let key = try NIOSSLPrivateKey(file: files.keyFile, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }

    /// The system's words for an I/O error ("Address already in use"), else the error's own.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let endpoint = error as? HTTPEndpointError { return endpoint.reason }
        return "\(error)"
    }
}

/// Runs an `HTTPEndpoint` as a service of the agent's group: it serves until the group shuts
/// down gracefully, then stops the endpoint (requests in flight are answered first).
public struct HTTPEndpointService: Service, CustomStringConvertible {
    let endpoint: HTTPEndpoint

    /// The service of an endpoint that is already listening.
    public init(endpoint: HTTPEndpoint) {
        self.endpoint = endpoint
    }

    public var description: String { "http-endpoint" }

    public func run() async {
        try? await gracefulShutdown()
        await endpoint.stop()
    }
}

/// Why an `HTTPEndpoint` could not listen: the address and the reason, as in
/// "cannot listen on 127.0.0.1:9479: Address already in use".
public struct HTTPEndpointError: Error, CustomStringConvertible, Sendable {
    /// The address as `host:port` (`[::1]:9479` for IPv6).
    public let address: String
    /// Why, in words (the system's text when a system call failed).
    public let reason: String

    /// An error for `address` with `reason`.
    public init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }

    /// "cannot listen on <address>: <reason>".
    public var description: String { "cannot listen on \(address): \(reason)" }
}
