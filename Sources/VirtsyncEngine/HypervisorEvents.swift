import VirtsyncCore

/// Something that happened on a hypervisor, as a trigger for a reconcile pass.
///
/// Events say *that* something changed, not the whole new state: a consumer looks again
/// (observes) rather than applying the event to a model of its own.
public enum HypervisorEvent: Hashable, Sendable {
    /// A domain's lifecycle changed (defined, started, stopped, ...).
    case domain(name: String, kind: DomainEventKind)
    /// A network was started (`true`) or stopped (`false`).
    case network(name: String, started: Bool)
    /// A storage pool was started (`true`) or stopped (`false`).
    case pool(name: String, started: Bool)
    /// The hypervisor closed the connection (daemon restart, keepalive timeout, I/O error);
    /// always the last event of a stream. `reason` is for humans and logs: `eof`, `error`,
    /// `keepalive`, `client` or `unknown-<n>`.
    case connectionClosed(reason: String)
    /// The subscriber fell behind and older events were dropped: whatever it keeps from events
    /// must be read again in full.
    case eventsLost
}

/// The kind of a domain lifecycle event.
public enum DomainEventKind: String, Sendable {
    /// A persistent definition was added or replaced.
    case defined
    /// The persistent definition was removed.
    case undefined
    /// The domain began running (boot, restore, migration in).
    case started
    /// The domain's CPUs were paused.
    case suspended
    /// The domain's CPUs run again after a pause.
    case resumed
    /// The domain is no longer running (shut down, destroyed, saved, migrated away, failed).
    case stopped
    /// The guest is shutting down (a `stopped` event normally follows).
    case shutdown
    /// The guest was suspended by power management (S3/S4).
    case pmsuspended
    /// The guest crashed (panicked), or the domain stopped because it crashed.
    case crashed
    /// A device was added or removed, the metadata, the balloon or a tunable (pinning, I/O
    /// limits) changed: the definition or the running guest differs, its run state does not.
    case changed
    /// A kind this version does not know.
    case other

    /// Whether the domain has stopped running or its guest crashed: what a reconcile agent
    /// reacts to when a VM it manages should be running.
    public var isStop: Bool { self == .stopped || self == .crashed }
}

/// Lifecycle events of one hypervisor connection.
public protocol HypervisorEventSource: Sendable {
    /// Subscribes to the lifecycle events of every domain, network and pool on the connection
    /// (whether they are managed is the caller's concern) and returns them as a stream.
    ///
    /// Contract:
    /// - Events arrive in the order the hypervisor reported them, at the latest from the moment
    ///   this call returns; nothing that happened before the call is replayed.
    /// - Delivery never blocks the hypervisor's event thread: the stream buffers the newest
    ///   1,024 events and drops older ones when the consumer falls behind. Callers use events
    ///   as triggers to observe again, so a dropped event costs nothing a later one cannot make up.
    /// - When the hypervisor closes the connection, the stream yields `.connectionClosed` and
    ///   finishes; the session is then dead and the caller reconnects.
    /// - When the consumer stops iterating (its task is cancelled or the stream is dropped), the
    ///   subscription ends and its registrations are removed; the connection stays usable.
    /// - Any number of subscriptions may be open at once; each gets every event.
    /// - Throws: `HypervisorError` `.unreachable` (the connection is closed or broken),
    ///   `.timeout`, or `.rejected` (the driver does not support events).
    func events() async throws -> AsyncStream<HypervisorEvent>
}
