import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A client of the agent's endpoint on AsyncHTTPClient: what `virtsync reconcile --now`, the
/// tests and the benchmark use to talk to an agent.
public enum EndpointClient {
    /// Where an agent listens and how to trust and authenticate to it.
    public struct Target: Sendable {
        /// The host: an IPv4 or IPv6 literal or a name.
        public var host: String
        /// The port.
        public var port: Int
        /// Speak HTTPS, trusting the system's CAs and this certificate file (PEM; the agent's own
        /// certificate or its CA), with no check of the name in it: the address was chosen by
        /// whoever configured both ends. Nil: plain HTTP.
        public var trustCertificateFile: String?
        /// Sent as `Authorization: Bearer TOKEN` when set.
        public var bearerToken: String?

        /// The agent at `host:port`, plain HTTP unless `trustCertificateFile` is given.
        public init(host: String, port: Int, trustCertificateFile: String? = nil, bearerToken: String? = nil) {
            self.host = host
            self.port = port
            self.trustCertificateFile = trustCertificateFile
            self.bearerToken = bearerToken
        }

        /// `host:port`, with brackets around an IPv6 host.
        public var display: String { HTTPEndpointConfiguration.display(host: host, port: port) }
        var url: String { "\(trustCertificateFile == nil ? "http" : "https")://\(display)" }
    }

    /// The client of plain-HTTP requests, for the life of the process (like AsyncHTTPClient's
    /// shared one, which would retry a refused connection until the request's deadline: an agent
    /// that is not running must be reported at once, not after `--wait`'s ten minutes).
    private static let plainClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls: nil))

    /// A refused or failed connection fails the request at once; connecting may take 5 s.
    private static func configuration(tls: TLSConfiguration?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// The largest response body accepted, so a confused server cannot exhaust memory.
    static let maxResponseBytes = 64 * 1024 * 1024

    /// Sends one request and returns the response, whatever its status.
    ///
    /// The whole exchange must finish within `timeout`. The response's header names are
    /// lower-cased. Throws `EndpointClientError` naming `host:port` when the agent cannot be
    /// reached, stops answering, or sends more than 64 MiB.
    public static func send(_ target: Target, method: String, path: String, headers: [String: String] = [:],
                            body: [UInt8] = [], timeout: Duration = .seconds(10)) async throws -> EndpointResponse {
        guard (1...65535).contains(target.port) else {
            throw EndpointClientError(address: target.display, message: "cannot connect to \(target.display): port out of range")
        }
        var request = HTTPClientRequest(url: target.url + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        if let token = target.bearerToken { request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)") }
        // One connection per request: a kept-alive one to an agent that has since restarted
        // would fail as "closed channel" instead of reaching the new one.
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        guard let trust = target.trustCertificateFile else {
            return try await perform(request, on: plainClient, target: target, timeout: timeout)
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(trust)]
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls: tls))
        do {
            let response = try await perform(request, on: client, target: target, timeout: timeout)
            try? await client.shutdown()
            return response
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func perform(_ request: HTTPClientRequest, on client: HTTPClient, target: Target,
                                timeout: Duration) async throws -> EndpointResponse {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(nanoseconds))
            let received = try await response.body.collect(upTo: maxResponseBytes)
            var fields: [String: String] = [:]
            for (name, value) in response.headers {
                let lowered = name.lowercased()
                fields[lowered] = fields[lowered].map { "\($0), \(value)" } ?? value
            }
            return EndpointResponse(status: Int(response.status.code), headers: fields,
                                    body: received.getBytes(at: received.readerIndex, length: received.readableBytes) ?? [])
        } catch is NIOTooManyBytesError {
            throw EndpointClientError(address: target.display, message: "response from \(target.display) is over \(maxResponseBytes) bytes")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw EndpointClientError(address: target.display, message: "no complete response from \(target.display) within \(timeout)")
        } catch {
            throw EndpointClientError(address: target.display, message: "cannot reach \(target.display): \(describe(error))")
        }
    }

    /// The system's words for a connection failure ("Connection refused"), else the error's own.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return describe(first.error)
        }
        return "\(error)"
    }
}

/// Why a request to the agent's endpoint got no answer; the message names the address.
public struct EndpointClientError: Error, CustomStringConvertible, Sendable {
    /// The address as `host:port`.
    public let address: String
    /// What went wrong, with the address.
    public let message: String

    /// An error about `address`.
    public init(address: String, message: String) {
        self.address = address
        self.message = message
    }

    public var description: String { message }
}
