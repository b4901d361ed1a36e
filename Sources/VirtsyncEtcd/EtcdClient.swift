import GRPCCore
import Synchronization

/// A client of etcd v3 over its gRPC API, with what virtsync's HA needs: leases, keys under a
/// prefix, compare-and-put claims, and watches.
///
/// Every endpoint gets its own connection. A call tries the endpoint that answered last, then the
/// others in order, each attempt with the configured deadline; it fails over when an endpoint
/// cannot be reached (or, for every call but a watch that etcd has confirmed, does not answer in
/// time). Failed calls throw `EtcdError`.
///
/// The connections live while `run()` runs: run it in a task of its own (or use
/// `withEtcdClient`), and call `shutdown()` to end it. Calls made before `run()` starts wait for it,
/// up to their deadline.
@available(macOS 15.0, *)
public final class EtcdClient: Sendable {
    /// What the client was made with.
    public let configuration: Configuration
    let endpoints: [EtcdEndpoint]
    /// The index of the endpoint that answered last.
    let preferred = Atomic<Int>(0)
    /// Open watches, ended by `shutdown()` (a graceful shutdown would otherwise wait for them).
    let watches = Mutex(WatchRegistry())

    /// A client of the endpoints in `configuration`; connects nothing yet.
    ///
    /// - Throws: `EtcdError` (`.invalidArgument`) when there is no endpoint, an endpoint is not
    ///   `host:port`, the deadline is not positive, or a client certificate comes without its key.
    public init(_ configuration: Configuration) throws {
        func invalid(_ message: String) -> EtcdError {
            EtcdError(code: .invalidArgument, message: message, operation: "connect")
        }
        guard !configuration.endpoints.isEmpty else { throw invalid("no endpoint given") }
        guard configuration.deadline > .zero else { throw invalid("the deadline must be positive") }
        if let tls = configuration.tls, (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw invalid("a client certificate needs its key, and a key its certificate")
        }
        self.configuration = configuration
        endpoints = try configuration.endpoints.map {
            try EtcdEndpoint(address: $0, tls: configuration.tls, deadline: configuration.deadline)
        }
    }

    /// Runs the connections to every endpoint until `shutdown()` (or until the task is cancelled,
    /// which also fails the calls in flight). Call it once.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask { try await endpoint.grpc.runConnections() }
            }
        }
    }

    /// Ends open watches (their streams finish without an error), lets the calls in flight
    /// finish and makes `run()` return. Calls made afterwards fail with `.cancelled`.
    public func shutdown() {
        let open = watches.withLock { $0.close() }
        for task in open { task.cancel() }
        for endpoint in endpoints { endpoint.grpc.beginGracefulShutdown() }
    }
}

/// Runs `body` with a client of `configuration` whose connections run meanwhile; shuts the client
/// down when `body` returns or throws.
@available(macOS 15.0, *)
public func withEtcdClient<Result: Sendable>(
    _ configuration: EtcdClient.Configuration,
    _ body: (EtcdClient) async throws -> Result
) async throws -> Result {
    let client = try EtcdClient(configuration)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        defer {
            client.shutdown()
            // Nothing in flight is wanted any more: close the connections at once.
            group.cancelAll()
        }
        return try await body(client)
    }
}

/// The watches a client has open, so that `shutdown()` can end them.
struct WatchRegistry {
    /// The open watches by key; nil until the watch's task is attached.
    private var tasks: [Int: Task<Void, Never>?] = [:]
    private var next = 0
    private var closed = false

    /// A key for a new watch, or nil when the client is shut down.
    mutating func reserve() -> Int? {
        guard !closed else { return nil }
        next += 1
        tasks[next] = .some(nil)
        return next
    }

    /// Attaches the task of the watch `key`; false when that watch has already ended (or the
    /// client was shut down meanwhile): the caller cancels the task then.
    mutating func attach(_ task: Task<Void, Never>, to key: Int) -> Bool {
        guard tasks[key] != nil else { return false }
        tasks[key] = task
        return true
    }

    /// Forgets the watch `key` and returns its task, if attached.
    mutating func end(_ key: Int) -> Task<Void, Never>? {
        tasks.removeValue(forKey: key) ?? nil
    }

    /// Refuses further watches and returns the tasks of the open ones.
    mutating func close() -> [Task<Void, Never>] {
        closed = true
        defer { tasks = [:] }
        return tasks.values.compactMap { $0 }
    }
}

/// A flag set once and read from other tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
