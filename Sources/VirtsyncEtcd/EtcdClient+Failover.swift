import GRPCCore

@available(macOS 15.0, *)
extension EtcdClient {
    /// Thrown by a call's body for an error that must not move the call to another endpoint (a
    /// watch that broke after etcd confirmed it: its events would be delivered twice).
    struct Final: Error {
        let error: any Error
    }

    /// The options of one attempt: the deadline, and no waiting for a connection that failed
    /// (the call moves on to the next endpoint instead).
    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = configuration.deadline
        options.waitForReady = false
        return options
    }

    /// Runs `body` against the endpoint that answered last, then the others in order, until one
    /// attempt succeeds or fails in a way another endpoint would not change.
    ///
    /// Moves on when the endpoint is unavailable (refused, broken, or without a leader) or did not
    /// answer within the deadline. `body` gets the attempt's number (0 first): a write retried
    /// elsewhere may have been applied by an earlier attempt whose answer was lost.
    func call<Result: Sendable>(_ operation: String,
                                _ body: (EtcdEndpoint, _ attempt: Int) async throws -> Result) async throws -> Result {
        let first = preferred.load(ordering: .relaxed)
        var failures: [EtcdError] = []
        for attempt in endpoints.indices {
            let index = (first + attempt) % endpoints.count
            let endpoint = endpoints[index]
            do {
                let result = try await body(endpoint, attempt)
                preferred.store(index, ordering: .relaxed)
                return result
            } catch let final as Final {
                throw Self.etcdError(final.error, operation: operation, endpoint: endpoint.address)
            } catch {
                let failure = Self.etcdError(error, operation: operation, endpoint: endpoint.address)
                guard failure.code == .unavailable || failure.code == .deadlineExceeded, !Task.isCancelled else {
                    throw failure
                }
                failures.append(failure)
            }
        }
        guard var last = failures.last else {
            fatalError("EtcdClient has no endpoint: init refuses an empty list")
        }
        if failures.count > 1 {
            last.message = "no endpoint answered: "
                + failures.map { "\($0.endpoint ?? "?"): \($0.message)" }.joined(separator: "; ")
        }
        throw last
    }

    /// `error` as an `EtcdError` of `operation` at `endpoint`.
    static func etcdError(_ error: any Error, operation: String, endpoint: String) -> EtcdError {
        if var etcd = error as? EtcdError {
            etcd.endpoint = etcd.endpoint ?? endpoint
            return etcd
        }
        if error is CancellationError {
            return EtcdError(code: .cancelled, message: "cancelled", operation: operation, endpoint: endpoint, cause: error)
        }
        guard let rpc = error as? RPCError else {
            return EtcdError(code: .rejected, message: "\(error)", operation: operation, endpoint: endpoint, cause: error)
        }
        let code: EtcdError.Code = switch rpc.code {
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .cancelled: .cancelled
        case .invalidArgument, .outOfRange: .invalidArgument
        default: .rejected
        }
        // etcd's own messages start with "etcdserver:"; gRPC's name the transport problem.
        var message = rpc.message
        if let cause = rpc.cause { message += " (\(cause))" }
        return EtcdError(code: code, message: "\(rpc.code): \(message)", operation: operation, endpoint: endpoint,
                         cause: rpc)
    }
}
