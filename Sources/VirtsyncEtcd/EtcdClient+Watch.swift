#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore

@available(macOS 15.0, *)
extension EtcdClient {
    /// Watches every key starting with `prefix`, from `fromRevision` on (inclusive; 0: from now).
    ///
    /// Each element holds the events of one etcd answer, in revision order, puts and deletes
    /// (including the deletes of expired or revoked leases). The watch starts on the first
    /// endpoint that confirms it within the deadline and stays there: once confirmed it never
    /// moves, so no event comes twice. The stream ends
    ///
    /// - with `EtcdError` `.watchEnded` when the stream breaks or etcd ends it, `.compacted` when
    ///   `fromRevision` is compacted away, or another code when no endpoint confirmed the watch:
    ///   list again with `get(prefix:)` and watch from its revision + 1;
    /// - without an error when the consumer stops iterating, the task is cancelled, or the client
    ///   is shut down.
    public func watch(prefix: String, fromRevision: Int64) -> AsyncThrowingStream<[WatchEvent], any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [WatchEvent].self, throwing: (any Error).self)
        guard let key = watches.withLock({ $0.reserve() }) else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.watches.withLock { $0.end(key) }?.cancel()
        }
        let task = Task {
            do {
                try await self.runWatch(prefix: prefix, fromRevision: fromRevision, into: continuation)
            } catch let error as EtcdError where error.code == .cancelled {
                continuation.finish()
            } catch {
                continuation.finish(throwing: Task.isCancelled ? nil : error)
            }
        }
        if !watches.withLock({ $0.attach(task, to: key) }) {
            task.cancel()
        }
        return stream
    }

    /// Opens the watch on the first endpoint that confirms it, then yields its events until the
    /// stream ends; always throws.
    private func runWatch(prefix: String, fromRevision: Int64,
                          into continuation: AsyncThrowingStream<[WatchEvent], any Error>.Continuation) async throws {
        let create = Etcdserverpb_WatchRequest.with {
            $0.createRequest = .with {
                $0.key = Self.rangeStart(ofPrefix: prefix)
                $0.rangeEnd = Self.rangeEnd(ofPrefix: prefix)
                $0.startRevision = fromRevision
            }
        }
        // A watch lasts as long as it is wanted: no deadline on the call; the confirmation has one.
        let options = { var options = callOptions; options.timeout = nil; return options }()
        let deadline = configuration.deadline
        let operation = "watch \(prefix)*"
        try await call(operation) { endpoint, _ in
            let confirmed = Flag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.watchStream(operation, endpoint, create, options, confirmed, continuation)
                }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    if !confirmed.isSet {
                        throw RPCError(code: .deadlineExceeded, message: "etcd did not confirm the watch within \(deadline)")
                    }
                }
                // The stream always ends with an error, which ends the group; the timer either
                // throws (and ends the group) or returns quietly.
                while try await group.next() != nil {}
            }
        }
    }

    /// One watch stream on `endpoint`: sends the create request, keeps the request side open,
    /// yields events. Errors after the confirmation are `Final`: the call must not fail over.
    private static func watchStream(_ operation: String, _ endpoint: EtcdEndpoint, _ create: Etcdserverpb_WatchRequest,
                                    _ options: CallOptions, _ confirmed: Flag,
                                    _ continuation: AsyncThrowingStream<[WatchEvent], any Error>.Continuation) async throws {
        let (responsesEnded, endResponses) = AsyncStream.makeStream(of: Void.self)
        do {
            try await endpoint.watch.watch(options: options) { writer in
                try await writer.write(create)
                // etcd keeps the watch while the request side is open: hold it open until the
                // responses end.
                for await _ in responsesEnded {}
            } onResponse: { response in
                defer { endResponses.finish() }
                for try await message in response.messages {
                    if message.created { confirmed.set() }
                    if message.canceled {
                        throw message.compactRevision > 0
                            ? EtcdError(code: .compacted,
                                        message: "revision \(create.createRequest.startRevision) is compacted; the oldest is \(message.compactRevision)",
                                        operation: operation)
                            : EtcdError(code: .watchEnded, message: "etcd cancelled the watch: \(message.cancelReason)",
                                        operation: operation)
                    }
                    let events = message.events.compactMap { WatchEvent($0) }
                    if !events.isEmpty { continuation.yield(events) }
                }
            }
        } catch {
            guard confirmed.isSet else { throw error }
            if let etcd = error as? EtcdError { throw Final(error: etcd) }
            var ended = etcdError(error, operation: operation, endpoint: endpoint.address)
            if ended.code != .cancelled {
                ended.code = .watchEnded
                ended.message = "the watch stream broke: \(ended.message)"
            }
            throw Final(error: ended)
        }
        guard confirmed.isSet else {
            throw RPCError(code: .unavailable, message: "the watch stream ended before etcd confirmed the watch")
        }
        throw Final(error: EtcdError(code: .watchEnded, message: "etcd ended the watch stream", operation: operation))
    }
}

@available(macOS 15.0, *)
extension EtcdClient.WatchEvent {
    /// An event from etcd's; nil for a kind this client does not know.
    init?(_ event: Mvccpb_Event) {
        switch event.type {
        case .put: self.init(kind: .put, keyValue: EtcdClient.KeyValue(event.kv))
        case .delete: self.init(kind: .delete, keyValue: EtcdClient.KeyValue(event.kv))
        case .UNRECOGNIZED: return nil
        }
    }
}
