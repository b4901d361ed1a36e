import CLibvirt
import Foundation
import VirtsyncEngine

/// The lifecycle-event registrations of one libvirt connection, fanned out to any number of
/// subscribers.
///
/// Why one registration per connection: libvirt refuses a second registration of the same C
/// callback for the same event on the same connection ("event callback already tracked"), and a
/// connection has a single close callback. So the hub registers once, when the first subscriber
/// arrives, and deregisters when the last one leaves.
///
/// Threads: libvirt calls the callbacks on its event thread (`LibvirtRuntime`); they only read
/// names and yield to continuations, never block and never call back into libvirt.
/// `subscribe` and `release` run on the connection's serial queue, which alone touches
/// `registration`; subscribers and the closed state are guarded by the lock. Continuations are
/// yielded to and finished outside the lock, because finishing runs the stream's termination
/// handler, which takes the lock again. That is what makes the `@unchecked Sendable` sound.
final class LibvirtEventHub: @unchecked Sendable {
    /// Buffer of each subscriber's stream: the newest events win (they are only triggers).
    static let bufferSize = 1024

    private let lock = NSLock()
    private var subscribers: [UInt64: AsyncStream<HypervisorEvent>.Continuation] = [:]
    /// Subscriptions that ended and whose `release` has not run yet. A subscription can end
    /// (its caller timed out) just before its `subscribe` runs; this keeps it from being added.
    private var ended: Set<UInt64> = []
    private var nextID: UInt64 = 0
    private var closedReason: String?
    /// libvirt's callback IDs while registered. Only touched on the connection's queue.
    private var registration: Registration?

    private struct Registration {
        var domain: Int32 = -1
        /// Device added and removed, metadata, balloon and tunable changes.
        var domainChanges: [Int32] = []
        var network: Int32 = -1
        var pool: Int32 = -1
        var close = false
    }

    /// A new subscriber ID (not yet subscribed).
    func makeID() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        nextID += 1
        return nextID
    }

    /// Adds a subscriber and registers with libvirt if it is the first. Runs on the queue.
    /// - Throws: `.unreachable` when libvirt already closed the connection; libvirt's error
    ///   when a registration fails (then nothing stays registered for this subscriber).
    func subscribe(_ id: UInt64, _ continuation: AsyncStream<HypervisorEvent>.Continuation, call: LibvirtCall) throws {
        lock.lock()
        if let reason = closedReason {
            lock.unlock()
            throw HypervisorError(code: .unreachable, message: "libvirt closed the connection (\(reason))",
                                  operation: "subscribe to events")
        }
        guard !ended.contains(id) else {
            lock.unlock()
            return
        }
        subscribers[id] = continuation
        lock.unlock()
        guard registration == nil else { return }
        do {
            registration = try register(call)
        } catch {
            end(id)
            throw error
        }
    }

    /// Stops delivering to a subscriber at once, from any thread; `release` follows on the queue.
    func end(_ id: UInt64) {
        lock.lock()
        subscribers[id] = nil
        ended.insert(id)
        lock.unlock()
    }

    /// Forgets an ended subscriber and deregisters everything from libvirt when no subscriber
    /// is left. Runs on the queue, after the subscriber's `subscribe` (or instead of it, when
    /// that was skipped); safe on a dead connection.
    func release(_ id: UInt64, call: LibvirtCall) {
        lock.lock()
        subscribers[id] = nil
        ended.remove(id)
        let unused = subscribers.isEmpty
        lock.unlock()
        guard unused, let registration else { return }
        self.registration = nil
        deregister(registration, call: call)
    }

    /// Whether callbacks are registered with libvirt (for tests). Runs on the queue.
    var isRegistered: Bool { registration != nil }

    /// Hands an event to every subscriber. Called on libvirt's event thread.
    ///
    /// A subscriber whose buffer was full lost its oldest event: it gets `.eventsLost` next,
    /// which, being the newest, stays in the buffer until it is read.
    func deliver(_ event: HypervisorEvent) {
        lock.lock()
        let targets = subscribers.values
        lock.unlock()
        for continuation in targets {
            if case .dropped = continuation.yield(event) { continuation.yield(.eventsLost) }
        }
    }

    /// Ends every subscription with `.connectionClosed`; later subscriptions fail. Called on
    /// libvirt's event thread.
    func close(reason: String) {
        lock.lock()
        closedReason = closedReason ?? reason
        let targets = subscribers.values
        subscribers.removeAll()
        lock.unlock()
        for continuation in targets {
            continuation.yield(.connectionClosed(reason: reason))
            continuation.finish()
        }
    }

    /// Registers the domain, network and pool lifecycle callbacks and the close callback.
    /// On a failure, undoes what was registered and throws libvirt's error.
    private func register(_ call: LibvirtCall) throws -> Registration {
        var done = Registration()
        do {
            done.domain = try registerEvents(call, "domain") { opaque in
                virConnectDomainEventRegisterAny(call.conn, nil, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
                                                 domainLifecycleCallback, opaque, releaseHub)
            }
            for (id, callback) in [(VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, domainDeviceCallback), (VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, domainDeviceCallback),
                                   (VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, domainMetadataCallback),
                                   (VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, domainBalloonCallback), (VIR_DOMAIN_EVENT_ID_TUNABLE, domainTunableCallback)] {
                done.domainChanges.append(try registerEvents(call, "domain") { opaque in
                    virConnectDomainEventRegisterAny(call.conn, nil, Int32(id.rawValue), callback, opaque, releaseHub)
                })
            }
            done.network = try registerEvents(call, "network") { opaque in
                virConnectNetworkEventRegisterAny(call.conn, nil, Int32(VIR_NETWORK_EVENT_ID_LIFECYCLE.rawValue),
                                                  networkLifecycleCallback, opaque, releaseHub)
            }
            done.pool = try registerEvents(call, "storage pool") { opaque in
                virConnectStoragePoolEventRegisterAny(call.conn, nil, Int32(VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE.rawValue),
                                                      poolLifecycleCallback, opaque, releaseHub)
            }
            // Unretained, without a free callback: drivers without close notification (the test
            // driver, local drivers) accept the registration and drop it, so a free callback
            // would never run. The hub outlives the registration: it belongs to the connection,
            // and every subscription keeps the connection until its release ran on the queue.
            let hub = Unmanaged.passUnretained(self).toOpaque()
            try call.check(virConnectRegisterCloseCallback(call.conn, closeCallback, hub, nil), "register close callback")
            done.close = true
            return done
        } catch {
            deregister(done, call: call)
            throw error
        }
    }

    /// Removes registrations from libvirt, ignoring failures.
    ///
    /// Safe on a dead connection: libvirt drops its local registration (and frees the context)
    /// before it tries to tell the daemon. Unregistering the close callback fails harmlessly
    /// when libvirt already dropped it after calling it.
    private func deregister(_ registration: Registration, call: LibvirtCall) {
        if registration.domain >= 0 { _ = virConnectDomainEventDeregisterAny(call.conn, registration.domain) }
        for id in registration.domainChanges { _ = virConnectDomainEventDeregisterAny(call.conn, id) }
        if registration.network >= 0 { _ = virConnectNetworkEventDeregisterAny(call.conn, registration.network) }
        if registration.pool >= 0 { _ = virConnectStoragePoolEventDeregisterAny(call.conn, registration.pool) }
        if registration.close { _ = virConnectUnregisterCloseCallback(call.conn, closeCallback) }
        virResetLastError()
    }

    /// Calls a `...EventRegisterAny` with a retained reference to the hub as context, which
    /// libvirt releases with `releaseHub` on deregistration; on failure libvirt does not keep
    /// the context, so the reference is released here.
    private func registerEvents(_ call: LibvirtCall, _ kind: String, _ register: (UnsafeMutableRawPointer) -> Int32) throws -> Int32 {
        let retained = Unmanaged.passRetained(self)
        let id = register(retained.toOpaque())
        if id < 0 {
            let error = call.error("register \(kind) events")
            retained.release()
            throw error
        }
        return id
    }
}

// MARK: - Mapping libvirt's numbers

extension LibvirtEventHub {
    /// The kind of a domain lifecycle event from libvirt's event and detail numbers.
    ///
    /// `STOPPED` with detail `CRASHED` maps to `.crashed` (the more specific fact: the domain
    /// is off because its guest crashed), as does the `CRASHED` event (a guest panic, after
    /// which the domain may still exist paused or be destroyed, depending on `on_crash`).
    static func domainKind(event: Int32, detail: Int32) -> DomainEventKind {
        switch UInt32(bitPattern: event) {
        case VIR_DOMAIN_EVENT_DEFINED.rawValue: return .defined
        case VIR_DOMAIN_EVENT_UNDEFINED.rawValue: return .undefined
        case VIR_DOMAIN_EVENT_STARTED.rawValue: return .started
        case VIR_DOMAIN_EVENT_SUSPENDED.rawValue: return .suspended
        case VIR_DOMAIN_EVENT_RESUMED.rawValue: return .resumed
        case VIR_DOMAIN_EVENT_STOPPED.rawValue:
            return UInt32(bitPattern: detail) == VIR_DOMAIN_EVENT_STOPPED_CRASHED.rawValue ? .crashed : .stopped
        case VIR_DOMAIN_EVENT_SHUTDOWN.rawValue: return .shutdown
        case VIR_DOMAIN_EVENT_PMSUSPENDED.rawValue: return .pmsuspended
        case VIR_DOMAIN_EVENT_CRASHED.rawValue: return .crashed
        default: return .other
        }
    }

    /// Whether a network lifecycle event says started (`true`) or stopped (`false`); `nil` for
    /// the others (defined, undefined), which the port does not report.
    static func networkStarted(event: Int32) -> Bool? {
        switch UInt32(bitPattern: event) {
        case VIR_NETWORK_EVENT_STARTED.rawValue: return true
        case VIR_NETWORK_EVENT_STOPPED.rawValue: return false
        default: return nil
        }
    }

    /// Whether a pool lifecycle event says started (`true`) or stopped (`false`); `nil` for the
    /// others (defined, undefined, created, deleted), which the port does not report.
    static func poolStarted(event: Int32) -> Bool? {
        switch UInt32(bitPattern: event) {
        case VIR_STORAGE_POOL_EVENT_STARTED.rawValue: return true
        case VIR_STORAGE_POOL_EVENT_STOPPED.rawValue: return false
        default: return nil
        }
    }

    /// A short name for libvirt's close reason.
    static func closeReason(_ reason: Int32) -> String {
        switch UInt32(bitPattern: reason) {
        case VIR_CONNECT_CLOSE_REASON_ERROR.rawValue: return "error"
        case VIR_CONNECT_CLOSE_REASON_EOF.rawValue: return "eof"
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE.rawValue: return "keepalive"
        case VIR_CONNECT_CLOSE_REASON_CLIENT.rawValue: return "client"
        default: return "unknown-\(reason)"
        }
    }
}

// MARK: - C callbacks
//
// File-level and capture-free: a closure capturing context crashes the Swift 6.3 compiler when
// used as a C callback. The context arrives as the opaque pointer (the hub).

/// The hub behind an opaque context pointer, without taking ownership.
private func hub(_ opaque: UnsafeMutableRawPointer?) -> LibvirtEventHub? {
    opaque.map { Unmanaged<LibvirtEventHub>.fromOpaque($0).takeUnretainedValue() }
}

/// Releases the reference `registerEvents` retained for libvirt.
private let releaseHub: virFreeCallback = { opaque in
    guard let opaque else { return }
    Unmanaged<LibvirtEventHub>.fromOpaque(opaque).release()
}

private let domainLifecycle: virConnectDomainEventCallback = { _, domain, event, detail, opaque in
    guard let hub = hub(opaque), let domain, let name = virDomainGetName(domain) else { return 0 }
    hub.deliver(.domain(name: String(cString: name), kind: LibvirtEventHub.domainKind(event: event, detail: detail)))
    return 0
}

/// A domain changed without a lifecycle event: a device, its metadata, the balloon, a tunable.
private func domainChanged(_ opaque: UnsafeMutableRawPointer?, _ domain: OpaquePointer?) {
    guard let hub = hub(opaque), let domain, let name = virDomainGetName(domain) else { return }
    hub.deliver(.domain(name: String(cString: name), kind: .changed))
}

private let domainDevice: virConnectDomainEventDeviceAddedCallback = { _, domain, _, opaque in domainChanged(opaque, domain) }
private let domainMetadata: virConnectDomainEventMetadataChangeCallback = { _, domain, _, _, opaque in domainChanged(opaque, domain) }
private let domainBalloon: virConnectDomainEventBalloonChangeCallback = { _, domain, _, opaque in domainChanged(opaque, domain) }
private let domainTunable: virConnectDomainEventTunableCallback = { _, domain, _, _, opaque in domainChanged(opaque, domain) }

private let networkLifecycle: virConnectNetworkEventLifecycleCallback = { _, network, event, _, opaque in
    guard let hub = hub(opaque), let network, let name = virNetworkGetName(network),
          let started = LibvirtEventHub.networkStarted(event: event) else { return }
    hub.deliver(.network(name: String(cString: name), started: started))
}

private let poolLifecycle: virConnectStoragePoolEventLifecycleCallback = { _, pool, event, _, opaque in
    guard let hub = hub(opaque), let pool, let name = virStoragePoolGetName(pool),
          let started = LibvirtEventHub.poolStarted(event: event) else { return }
    hub.deliver(.pool(name: String(cString: name), started: started))
}

/// The callbacks as the generic types the `...RegisterAny` functions take (libvirt's
/// `VIR_*_EVENT_CALLBACK` casting macros do not import).
private let domainLifecycleCallback = unsafeBitCast(domainLifecycle, to: virConnectDomainEventGenericCallback.self)
private let domainDeviceCallback = unsafeBitCast(domainDevice, to: virConnectDomainEventGenericCallback.self)
private let domainMetadataCallback = unsafeBitCast(domainMetadata, to: virConnectDomainEventGenericCallback.self)
private let domainBalloonCallback = unsafeBitCast(domainBalloon, to: virConnectDomainEventGenericCallback.self)
private let domainTunableCallback = unsafeBitCast(domainTunable, to: virConnectDomainEventGenericCallback.self)
private let networkLifecycleCallback = unsafeBitCast(networkLifecycle, to: virConnectNetworkEventGenericCallback.self)
private let poolLifecycleCallback = unsafeBitCast(poolLifecycle, to: virConnectStoragePoolEventGenericCallback.self)

private let closeCallback: virConnectCloseFunc = { _, reason, opaque in
    hub(opaque)?.close(reason: LibvirtEventHub.closeReason(reason))
}
