#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore

@available(macOS 15.0, *)
extension EtcdClient {
    /// Writes `value` at `key`, attached to `lease` (0: none), and returns the write's revision.
    ///
    /// - Throws: `EtcdError` (`.rejected` when the lease does not exist). A put retried on
    ///   another endpoint may be applied twice, the same value both times.
    @discardableResult
    public func put(key: String, value: [UInt8], lease: Int64 = 0) async throws -> Int64 {
        let request = Etcdserverpb_PutRequest.with {
            $0.key = Data(key.utf8)
            $0.value = Data(value)
            $0.lease = lease
        }
        let options = callOptions
        return try await call("put \(key)") { endpoint, _ in
            try await endpoint.kv.put(request, options: options).header.revision
        }
    }

    /// Every key starting with `prefix` (all keys for ""), in key order, read linearizably, with
    /// the store's revision at the time of the read: watch from `revision + 1` to miss nothing.
    public func get(prefix: String) async throws -> (revision: Int64, keyValues: [KeyValue]) {
        let request = Etcdserverpb_RangeRequest.with {
            $0.key = Self.rangeStart(ofPrefix: prefix)
            $0.rangeEnd = Self.rangeEnd(ofPrefix: prefix)
        }
        let options = callOptions
        return try await call("get \(prefix)*") { endpoint, _ in
            let response = try await endpoint.kv.range(request, options: options)
            return (response.header.revision, response.kvs.map(KeyValue.init))
        }
    }

    /// Deletes `key` and returns the revision after it (unchanged when there was no such key).
    @discardableResult
    public func delete(key: String) async throws -> Int64 {
        let request = Etcdserverpb_DeleteRangeRequest.with { $0.key = Data(key.utf8) }
        let options = callOptions
        return try await call("delete \(key)") { endpoint, _ in
            try await endpoint.kv.deleteRange(request, options: options).header.revision
        }
    }

    /// What `putUnlessHeld` found.
    public enum PutUnlessHeldOutcome: Equatable, Sendable {
        /// The key was absent and is now written, attached to the lease.
        case written
        /// The key was there already, attached to the lease: left as it is.
        case alreadyAttached
        /// The key is attached to another lease (or to none: 0); nothing was written.
        case held(lease: Int64)
    }

    /// Writes `value` at `key`, attached to `lease`, in one transaction, only if `key` does not
    /// exist; when it exists, reports whether it is on `lease` already (an earlier attempt of the
    /// caller's) or on another.
    public func putUnlessHeld(key: String, value: [UInt8], lease: Int64) async throws -> PutUnlessHeldOutcome {
        let keyBytes = Data(key.utf8), valueBytes = Data(value)
        var request = Etcdserverpb_TxnRequest()
        request.compare = [.with { $0.key = keyBytes; $0.result = .equal; $0.target = .create; $0.createRevision = 0 }]
        request.success = [.with { $0.requestPut = .with { $0.key = keyBytes; $0.value = valueBytes; $0.lease = lease } }]
        request.failure = [.with { $0.requestRange = .with { $0.key = keyBytes } }]
        let options = callOptions
        return try await call("put \(key) unless held") { endpoint, _ in
            let response = try await endpoint.kv.txn(request, options: options)
            if response.succeeded { return .written }
            guard case .responseRange(let range)? = response.responses.first?.response, let current = range.kvs.first else {
                // Deleted between the compare and the read: impossible in one transaction.
                return .held(lease: 0)
            }
            return current.lease == lease ? .alreadyAttached : .held(lease: current.lease)
        }
    }

    /// Writes `value` at `key` (attached to no lease) in one transaction, only if
    ///
    /// - `key` is unchanged since `expectedModRevision`, or does not exist when that is nil; and
    /// - when `memberKey` is given, it is not attached to `lease` (a missing key counts as attached
    ///   to lease 0, so it passes unless `lease` is 0); and
    /// - when `ownKey` is given, it exists and is attached to `ownLease` (the writer still holds
    ///   the lease it claims under).
    ///
    /// Returns the transaction's revision (the write's `modRevision`: HA's epoch), or nil when a
    /// condition did not hold and nothing was written.
    ///
    /// When an attempt fails and the call moves on to another endpoint, the lost attempt may have
    /// been applied: a later attempt then finds its condition false, sees `value` at `key`
    /// unattached, and returns that write's revision rather than nil.
    ///
    /// - Throws: `EtcdError` (`.invalidArgument` when only one of `memberKey` and `lease` is given;
    ///   `.unavailable`, `.deadlineExceeded` when no endpoint answered: the outcome is unknown,
    ///   read the key).
    public func compareAndPut(key: String, expectedModRevision: Int64?, alsoRequireKey memberKey: String? = nil,
                              notAttachedTo lease: Int64? = nil, requireKey ownKey: String? = nil, attachedTo ownLease: Int64? = nil,
                              value: [UInt8]) async throws -> Int64? {
        guard (memberKey == nil) == (lease == nil) else {
            throw EtcdError(code: .invalidArgument, message: "alsoRequireKey and notAttachedTo go together",
                            operation: "compare and put \(key)")
        }
        guard (ownKey == nil) == (ownLease == nil) else {
            throw EtcdError(code: .invalidArgument, message: "requireKey and attachedTo go together, with a lease other than 0",
                            operation: "compare and put \(key)")
        }
        var attached: [String: Int64] = [:]
        if let ownKey, let ownLease { attached[ownKey] = ownLease }
        var notAttached: [String: Int64] = [:]
        if let memberKey, let lease { notAttached[memberKey] = lease }
        return try await compareAndPut(key: key, expectedModRevision: expectedModRevision, attached: attached,
                                       notAttached: notAttached, value: value)
    }

    /// `compareAndPut` with any number of lease conditions: every key of `attached` exists and is
    /// attached to its lease (never 0), and no key of `notAttached` is attached to its lease.
    public func compareAndPut(key: String, expectedModRevision: Int64?, attached: [String: Int64],
                              notAttached: [String: Int64], value: [UInt8]) async throws -> Int64? {
        let operation = "compare and put \(key)"
        guard !attached.values.contains(0) else {
            throw EtcdError(code: .invalidArgument, message: "a key required attached needs a lease other than 0", operation: operation)
        }
        let keyBytes = Data(key.utf8), valueBytes = Data(value)
        var request = Etcdserverpb_TxnRequest()
        request.compare.append(.with {
            $0.key = keyBytes
            $0.result = .equal
            if let expectedModRevision {
                $0.target = .mod
                $0.modRevision = expectedModRevision
            } else {
                $0.target = .create
                $0.createRevision = 0
            }
        })
        for (memberKey, lease) in notAttached.sorted(by: { $0.key < $1.key }) {
            request.compare.append(.with {
                $0.key = Data(memberKey.utf8)
                $0.target = .lease
                $0.result = .notEqual
                $0.lease = lease
            })
        }
        for (ownKey, ownLease) in attached.sorted(by: { $0.key < $1.key }) {
            request.compare.append(.with {
                $0.key = Data(ownKey.utf8)
                $0.target = .lease
                $0.result = .equal
                $0.lease = ownLease
            })
        }
        request.success = [.with { $0.requestPut = .with { $0.key = keyBytes; $0.value = valueBytes } }]
        // On failure, read the key back: needed to recognise this call's own earlier write.
        request.failure = [.with { $0.requestRange = .with { $0.key = keyBytes } }]
        let options = callOptions
        return try await call(operation) { endpoint, attempt in
            let response = try await endpoint.kv.txn(request, options: options)
            if response.succeeded { return response.header.revision }
            if attempt > 0, case .responseRange(let range)? = response.responses.first?.response,
               let current = range.kvs.first, current.value == valueBytes, current.lease == 0 {
                return current.modRevision
            }
            return nil
        }
    }

    /// The first key of the range of keys that start with `prefix`: the prefix itself, or "\0"
    /// for "" (etcd refuses an empty key).
    static func rangeStart(ofPrefix prefix: String) -> Data {
        prefix.isEmpty ? Data([0]) : Data(prefix.utf8)
    }

    /// The end of the range of keys that start with `prefix`: the prefix with its last byte below
    /// 0xff incremented and what follows dropped; "\0" (every key from `prefix` on) when none is.
    static func rangeEnd(ofPrefix prefix: String) -> Data {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])
    }
}
