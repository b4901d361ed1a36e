import GRPCCore

@available(macOS 15.0, *)
extension EtcdClient {
    /// Grants a lease of `ttl` (whole seconds, rounded up; etcd may raise it to its minimum) and
    /// returns its id. The lease lives while `keepAlive(lease:)` renews it within each TTL.
    ///
    /// - Throws: `EtcdError`. A grant retried on another endpoint may leave an unused lease behind;
    ///   it expires on its own.
    public func grantLease(ttl: Duration) async throws -> Int64 {
        let (whole, fraction) = ttl.components
        let seconds = max(1, whole + (fraction > 0 ? 1 : 0))
        let options = callOptions
        return try await call("grant lease") { endpoint, _ in
            let response = try await endpoint.lease.leaseGrant(.with { $0.ttl = seconds }, options: options)
            guard response.error.isEmpty else {
                throw EtcdError(code: .rejected, message: response.error, operation: "grant lease")
            }
            return response.id
        }
    }

    /// Grants lease `id` (chosen by the caller, > 0) with `ttl`, rounded up to whole seconds.
    ///
    /// Returns true when this call granted it, false when it existed already and
    /// `existingIsOurs` (an earlier attempt of the caller's, whose answer was lost) or an earlier
    /// attempt of this same call, on another endpoint, may have granted it. An existing lease
    /// keeps its remaining TTL: etcd does not renew it.
    ///
    /// - Throws: `EtcdError` with code `.alreadyExists` when the lease exists and may be someone
    ///   else's; other codes as for every call.
    @discardableResult
    public func grantLease(id: Int64, ttl: Duration, existingIsOurs: Bool) async throws -> Bool {
        guard id > 0 else {
            throw EtcdError(code: .invalidArgument, message: "a chosen lease id must be positive", operation: "grant lease \(id)")
        }
        let (whole, fraction) = ttl.components
        let seconds = max(1, whole + (fraction > 0 ? 1 : 0))
        let options = callOptions
        let operation = "grant lease \(id)"
        return try await call(operation) { endpoint, attempt in
            do {
                let response = try await endpoint.lease.leaseGrant(.with { $0.id = id; $0.ttl = seconds }, options: options)
                guard response.error.isEmpty else {
                    throw EtcdError(code: .rejected, message: response.error, operation: operation)
                }
                return true
            } catch let error as RPCError where error.code == .failedPrecondition && error.message.contains("lease already exists") {
                if existingIsOurs || attempt > 0 { return false }
                throw Final(error: EtcdError(code: .alreadyExists, message: error.message, operation: operation, cause: error))
            }
        }
    }

    /// Renews `lease` once: true when etcd renewed it to its full TTL, false when the lease is gone
    /// (expired or revoked; etcd answers with a TTL of 0), which no later renewal can undo.
    ///
    /// The keepalive goes to every endpoint at once, and the first answer counts (the others are
    /// cancelled). A keepalive is idempotent and every member forwards it to the leader, so
    /// asking all is safe; asking one after another would spend the whole deadline on a member
    /// that accepts the connection and never answers (a frozen host) before trying the next,
    /// which can cost a lease when the leader changes at the same time (found by the HA fault
    /// campaign).
    ///
    /// etcd counts the renewed TTL from when it received the request, so the lease is safe until
    /// the time this call was *started* plus the TTL.
    ///
    /// - Throws: `EtcdError` when no endpoint answered within the deadline: the lease may or may
    ///   not have been renewed.
    public func keepAlive(lease: Int64) async throws -> Bool {
        let options = callOptions
        let operation = "keep lease \(lease) alive"
        return try await withTaskGroup(of: (String, Result<Bool, any Error>).self, returning: Result<Bool, EtcdError>.self) { group in
            for endpoint in endpoints {
                group.addTask {
                    do {
                        let ttl = try await endpoint.lease.leaseKeepAlive(options: options) { writer in
                            try await writer.write(.with { $0.id = lease })
                        } onResponse: { response in
                            for try await message in response.messages {
                                return message.ttl
                            }
                            throw RPCError(code: .unavailable, message: "the keepalive stream ended without an answer")
                        }
                        return (endpoint.address, .success(ttl > 0))
                    } catch {
                        return (endpoint.address, .failure(error))
                    }
                }
            }
            var failures: [EtcdError] = []
            for await (address, result) in group {
                switch result {
                case .success(let alive):
                    group.cancelAll()
                    return .success(alive)
                case .failure(let error):
                    failures.append(Self.etcdError(error, operation: operation, endpoint: address))
                }
            }
            guard var last = failures.last else {
                return .failure(EtcdError(code: .unavailable, message: "no endpoint", operation: operation))
            }
            if failures.count > 1 {
                last.message = "no endpoint answered: " + failures.map { "\($0.endpoint ?? "?"): \($0.message)" }.joined(separator: "; ")
            }
            return .failure(last)
        }.get()
    }

    /// Revokes `lease`: etcd deletes every key attached to it at once. Revoking a lease that is
    /// already gone succeeds.
    ///
    /// - Throws: `EtcdError` when no endpoint answered or etcd refused.
    public func revoke(lease: Int64) async throws {
        let options = callOptions
        try await call("revoke lease \(lease)") { endpoint, _ in
            do {
                _ = try await endpoint.lease.leaseRevoke(.with { $0.id = lease }, options: options)
            } catch let error as RPCError where error.code == .notFound {
                // "etcdserver: requested lease not found": what revoking was for.
            }
        }
    }

    /// The seconds `lease` has left as etcd's leader counts them; nil when it is gone.
    public func timeToLive(lease: Int64) async throws -> Int64? {
        let options = callOptions
        return try await call("time to live of lease \(lease)") { endpoint, _ in
            let ttl = try await endpoint.lease.leaseTimeToLive(.with { $0.id = lease }, options: options).ttl
            return ttl > 0 ? ttl : nil
        }
    }
}
