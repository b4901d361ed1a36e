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
