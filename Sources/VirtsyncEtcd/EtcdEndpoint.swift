import GRPCCore
import GRPCNIOTransportHTTP2

/// One member's client endpoint: a gRPC client with its own HTTP/2 connection, and the KV, Lease
/// and Watch stubs over it.
@available(macOS 15.0, *)
struct EtcdEndpoint: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    /// `host:port` as configured, for errors.
    let address: String
    let grpc: GRPCClient<Transport>
    let kv: Etcdserverpb_KV.Client<Transport>
    let lease: Etcdserverpb_Lease.Client<Transport>
    let watch: Etcdserverpb_Watch.Client<Transport>

    /// Sets up (does not open) the connection to `address`.
    init(address: String, tls: EtcdClient.TLS?, deadline: Duration) throws {
        let target = try Self.target(address)
        let config = Transport.Config.defaults { config in
            // Come back soon after a member restarts (gRPC's default waits up to 2 minutes).
            config.backoff = .init(initial: .milliseconds(500), max: .seconds(5), multiplier: 1.6, jitter: 0.2)
            // Notice a member that vanished without closing the connection (a watch would wait
            // forever). etcd refuses pings more often than every 5 s, and any without a call.
            config.connection.keepalive = .init(time: .seconds(10), timeout: max(deadline, .seconds(1)),
                                                allowWithoutCalls: false)
        }
        let transport: Transport
        do {
            transport = try Transport(target: target, transportSecurity: Self.security(tls), config: config)
        } catch {
            throw EtcdError(code: .invalidArgument, message: "cannot set up the connection: \(error)",
                            operation: "connect", endpoint: address, cause: error)
        }
        self.address = address
        grpc = GRPCClient(transport: transport)
        kv = Etcdserverpb_KV.Client(wrapping: grpc)
        lease = Etcdserverpb_Lease.Client(wrapping: grpc)
        watch = Etcdserverpb_Watch.Client(wrapping: grpc)
    }

    /// `host:port`, `[v6]:port` or `name:port` to a gRPC target.
    static func target(_ address: String) throws -> any ResolvableTarget {
        func invalid(_ why: String) -> EtcdError {
            EtcdError(code: .invalidArgument, message: "'\(address)' is not host:port (\(why))", operation: "connect",
                      endpoint: address)
        }
        guard !address.contains("://") else { throw invalid("give it without a scheme; TLS is configured apart") }
        guard let colon = address.lastIndex(of: ":") else { throw invalid("no port") }
        var host = Substring(address[..<colon])
        guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
            throw invalid("the port must be 1 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { throw invalid("brackets are for IPv6 addresses") }
            return .ipv6(address: String(host), port: port)
        }
        guard !host.isEmpty else { throw invalid("no host") }
        guard !host.contains(":") else { throw invalid("write an IPv6 address in brackets") }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) {
            return .ipv4(address: String(host), port: port)
        }
        return .dns(host: String(host), port: port)
    }

    static func security(_ tls: EtcdClient.TLS?) -> Transport.TransportSecurity {
        guard let tls else { return .plaintext }
        return .tls { config in
            config.trustRoots = .certificates([.file(path: tls.caFile, format: .pem)])
            config.serverCertificateVerification = tls.verifyHostname ? .fullVerification : .noHostnameVerification
            if let certificate = tls.certificateFile, let key = tls.keyFile {
                config.certificateChain = [.file(path: certificate, format: .pem)]
                config.privateKey = .file(path: key, format: .pem)
            }
        }
    }
}
