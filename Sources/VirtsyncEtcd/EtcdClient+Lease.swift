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

    /// Renews `lease` once (one round trip on a LeaseKeepAlive stream of its own): true when etcd
    /// renewed it to its full TTL, false when the lease is gone (expired or revoked; etcd answers
    /// with a TTL of 0), which no later renewal can undo.
    ///
    /// etcd counts the renewed TTL from when it received the request, so the lease is safe until
    /// the time this call was *started* plus the TTL.
    ///
    /// - Throws: `EtcdError` when no endpoint answered within the deadline: the lease may or may
    ///   not have been renewed.
    public func keepAlive(lease: Int64) async throws -> Bool {
        let options = callOptions
        return try await call("keep lease \(lease) alive") { endpoint, _ in
            let ttl = try await endpoint.lease.leaseKeepAlive(options: options) { writer in
                try await writer.write(.with { $0.id = lease })
            } onResponse: { response in
                for try await message in response.messages {
                    return message.ttl
                }
                throw RPCError(code: .unavailable, message: "the keepalive stream ended without an answer")
            }
            return ttl > 0
        }
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
