import VirtsyncEngine

extension LibvirtSession: HypervisorEventSource {
    /// Subscribes to domain, network and storage pool lifecycle events and to the connection's
    /// closing (see `HypervisorEventSource` for the contract).
    ///
    /// The first subscription on a connection registers libvirt's callbacks, on the connection's
    /// queue within the ordinary call deadline; later ones share them. Ending the last
    /// subscription deregisters them on the queue, without a deadline, so the cleanup happens
    /// even behind a hung call. Events are dispatched by the event loop `LibvirtRuntime` runs.
    /// An open stream keeps the connection open, even when the session itself is dropped.
    /// - Throws: `HypervisorError` `.unreachable` (the connection was closed), `.timeout`, or
    ///   libvirt's error when a registration fails (nothing stays registered then).
    public func events() async throws -> AsyncStream<HypervisorEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: HypervisorEvent.self, bufferingPolicy: .bufferingNewest(LibvirtEventHub.bufferSize))
        let connection = self.connection
        let hub = connection.eventHub
        let id = hub.makeID()
        // Set before subscribing, so every way the stream can end releases the registrations:
        // the consumer's task cancelled, the stream and its iterators dropped (AsyncStream
        // terminates then, though the hub still holds the continuation), the connection closed,
        // or the subscription failed.
        continuation.onTermination = { _ in
            hub.end(id)
            connection.enqueue { call in hub.release(id, call: call) }
        }
        do {
            try await run("subscribe to events") { call in
                try hub.subscribe(id, continuation, call: call)
            }
        } catch {
            continuation.finish()
            throw error
        }
        return stream
    }
}
