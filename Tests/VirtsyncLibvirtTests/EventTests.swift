import CLibvirt
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// Lifecycle events against libvirt's test driver. Each test opens its own private node, so
/// events of one test never reach another.
@Suite("lifecycle events")
struct EventTests {
    @Test("defining, starting, pausing, resuming, destroying and undefining a domain arrive in order")
    func domainLifecycle() async throws {
        let session = try await Fixture.session()
        let events = try await session.events()
        try await Raw.defineDomain(session, "ev-1")
        try await Raw.domain(session, "ev-1") { virDomainCreate($0) }
        try await Raw.domain(session, "ev-1") { virDomainSuspend($0) }
        try await Raw.domain(session, "ev-1") { virDomainResume($0) }
        try await Raw.domain(session, "ev-1") { virDomainDestroy($0) }
        try await Raw.domain(session, "ev-1") { virDomainUndefine($0) }
        let received = await firstEvents(6, of: events)
        #expect(received == [.defined, .started, .suspended, .resumed, .stopped, .undefined].map {
            HypervisorEvent.domain(name: "ev-1", kind: $0)
        })
    }

    @Test("a domain created, started and stopped by the session's own apply reports defined, started, stopped")
    func throughApply() async throws {
        let session = try await Fixture.session()
        let events = try await session.events()
        let name = Models.minimalDomain.name
        try await session.apply(Steps.domain(.create, Models.minimalDomain))
        try await session.apply(Steps.domain(.start, named: name))
        try await session.apply(Steps.domain(.stop, named: name))
        let received = await firstEvents(3, of: events)
        #expect(received == [.defined, .started, .stopped].map { HypervisorEvent.domain(name: name, kind: $0) })
    }

    @Test("a network started and destroyed reports started, then stopped; define and undefine are not reported")
    func networkStopped() async throws {
        let session = try await Fixture.session()
        let events = try await session.events()
        try await session.run("network") { call in
            guard let network = virNetworkDefineXML(call.conn, "<network><name>ev-net</name><bridge name='virbr42'/></network>")
            else { throw call.error("define") }
            defer { virNetworkFree(network) }
            try call.check(virNetworkCreate(network), "start")
            try call.check(virNetworkDestroy(network), "destroy")
            try call.check(virNetworkUndefine(network), "undefine")
        }
        // A domain event after the network's last one shows nothing else came in between.
        try await Raw.defineDomain(session, "marker")
        let received = await firstEvents(3, of: events)
        #expect(received == [.network(name: "ev-net", started: true), .network(name: "ev-net", started: false),
                             .domain(name: "marker", kind: .defined)])
    }

    @Test("a storage pool started and destroyed reports started, then stopped")
    func poolStopped() async throws {
        let session = try await Fixture.session()
        let events = try await session.events()
        try await session.run("pool") { call in
            let xml = "<pool type='dir'><name>ev-pool</name><target><path>/nonexistent/ev-pool</path></target></pool>"
            guard let pool = virStoragePoolDefineXML(call.conn, xml, 0) else { throw call.error("define") }
            defer { virStoragePoolFree(pool) }
            try call.check(virStoragePoolCreate(pool, 0), "start")
            try call.check(virStoragePoolDestroy(pool), "destroy")
        }
        let received = await firstEvents(2, of: events)
        #expect(received == [.pool(name: "ev-pool", started: true), .pool(name: "ev-pool", started: false)])
    }

    @Test("cancelling the consumer deregisters; the connection still works and subscribes again")
    func cancellation() async throws {
        let session = try await Fixture.session()
        let events = try await session.events()
        let seen = Counter()
        let consumer = Task {
            for await _ in events { seen.add() }
        }
        try await Raw.defineDomain(session, "ev-1")
        try await waitUntil { seen.value == 1 }
        consumer.cancel()
        await consumer.value
        #expect(try await isRegistered(session) == false)

        try await Raw.domain(session, "ev-1") { virDomainCreate($0) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(seen.value == 1)
        let observed = try await session.observe(host: Steps.host)
        #expect(observed.domains["ev-1"] != nil)

        let again = try await session.events()
        try await Raw.domain(session, "ev-1") { virDomainDestroy($0) }
        #expect(await firstEvents(1, of: again) == [.domain(name: "ev-1", kind: .stopped)])
    }

    @Test("a consumer that breaks out of its loop, or drops the stream unread, ends the subscription")
    func breakingOut() async throws {
        let session = try await Fixture.session()
        try await consumeOne(session)
        #expect(try await isRegistered(session) == false)
        _ = try await session.events()
        #expect(try await isRegistered(session) == false)
    }

    @Test("once nothing subscribes, libvirt frees its references and the connection goes away")
    func nothingLeaks() async throws {
        let hub = WeakBox<LibvirtEventHub>()
        let connection = WeakBox<LibvirtConnection>()
        do {
            let session = try await Fixture.session()
            hub.value = session.connection.eventHub
            connection.value = session.connection
            let first = try await session.events()
            let second = try await session.events()
            try await Raw.defineDomain(session, "ev-1")
            #expect(await firstEvents(1, of: first).count == 1)
            #expect(await firstEvents(1, of: second).count == 1)
        }
        try await waitUntil { hub.value == nil && connection.value == nil }
    }

    @Test("two subscribers on one session both get every event; one leaving does not stop the other")
    func twoSubscribers() async throws {
        let session = try await Fixture.session()
        let first = try await session.events()
        let second = try await session.events()
        try await Raw.defineDomain(session, "ev-1")
        try await Raw.domain(session, "ev-1") { virDomainCreate($0) }
        let expected = [HypervisorEvent.domain(name: "ev-1", kind: .defined), .domain(name: "ev-1", kind: .started)]
        #expect(await firstEvents(2, of: first) == expected)
        #expect(await firstEvents(2, of: second) == expected)

        let third = try await session.events()
        let leaving = Task { for await _ in second {} }
        leaving.cancel()
        await leaving.value
        #expect(try await isRegistered(session))
        try await Raw.domain(session, "ev-1") { virDomainDestroy($0) }
        #expect(await firstEvents(1, of: first) == [.domain(name: "ev-1", kind: .stopped)])
        #expect(await firstEvents(1, of: third) == [.domain(name: "ev-1", kind: .stopped)])
    }

    /// A real daemon (scripts/test.sh exports its URI); without it the close test is skipped.
    static let systemURI = ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"]

    @Test("when the daemon's connection breaks, every stream ends with connectionClosed and the hub lets go",
          .enabled(if: systemURI != nil, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
    func connectionClosed() async throws {
        let uri = try #require(Self.systemURI)
        let before = daemonSockets()
        let session = try await LibvirtSession.connect(uri: uri)
        let sockets = daemonSockets().subtracting(before)
        try #require(!sockets.isEmpty, "no socket to the daemon found in /proc/self/fd")
        let first = try await session.events()
        let second = try await session.events()
        // What a daemon restart looks like from here: the socket reaches end of file.
        for descriptor in sockets { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        for stream in [first, second] {
            let received = await firstEvents(2, of: stream)
            #expect(received.count == 1, "the stream finishes after connectionClosed: \(received)")
            guard case .connectionClosed(let reason)? = received.first else {
                Issue.record("expected connectionClosed, got \(received)")
                continue
            }
            #expect(["eof", "error"].contains(reason))
        }
        await expectHypervisorError(.unreachable) { _ = try await session.events() }
        #expect(try await isRegistered(session) == false)
    }

    @Test("libvirt's lifecycle numbers map to the port's kinds")
    func mapping() {
        let kind = LibvirtEventHub.domainKind
        #expect(kind(0, 0) == .defined)
        #expect(kind(1, 0) == .undefined)
        #expect(kind(2, 0) == .started)
        #expect(kind(3, 0) == .suspended)
        #expect(kind(4, 0) == .resumed)
        #expect(kind(5, 0) == .stopped)
        #expect(kind(5, 1) == .stopped)
        #expect(kind(5, 2) == .crashed)
        #expect(kind(6, 0) == .shutdown)
        #expect(kind(7, 0) == .pmsuspended)
        #expect(kind(8, 0) == .crashed)
        #expect(kind(99, 0) == .other)
        #expect(DomainEventKind.stopped.isStop && DomainEventKind.crashed.isStop && !DomainEventKind.shutdown.isStop)
        #expect(LibvirtEventHub.networkStarted(event: 2) == true)
        #expect(LibvirtEventHub.networkStarted(event: 3) == false)
        #expect(LibvirtEventHub.networkStarted(event: 0) == nil)
        #expect(LibvirtEventHub.poolStarted(event: 2) == true)
        #expect(LibvirtEventHub.poolStarted(event: 3) == false)
        #expect(LibvirtEventHub.poolStarted(event: 4) == nil)
        #expect(LibvirtEventHub.closeReason(1) == "eof")
        #expect(LibvirtEventHub.closeReason(2) == "keepalive")
        #expect(LibvirtEventHub.closeReason(7) == "unknown-7")
    }
}

// MARK: - Helpers

/// libvirt calls made directly, beside the session's own code paths.
private enum Raw {
    static func defineDomain(_ session: LibvirtSession, _ name: String) async throws {
        try await session.run("define \(name)") { call in
            let xml = "<domain type='test'><name>\(name)</name><memory>65536</memory><os><type>hvm</type></os></domain>"
            guard let domain = virDomainDefineXML(call.conn, xml) else { throw call.error("define \(name)") }
            virDomainFree(domain)
        }
    }

    /// Runs `body` on the domain named `name`; it returns libvirt's status.
    static func domain(_ session: LibvirtSession, _ name: String,
                       _ body: @escaping @Sendable (OpaquePointer) -> Int32) async throws {
        try await session.run("change \(name)") { call in
            let domain = try call.existingDomain(name, "look up \(name)")
            try call.check(body(domain.pointer), "change \(name)")
        }
    }
}

/// The first `count` events of `stream`, or those that arrived within `timeout` (the stream
/// ends then, as its consumer was cancelled). The timeout is a deadline for a failing test, not a
/// speed check: on a loaded 2-core machine six test-driver calls alone have taken over 4 s.
private func firstEvents(_ count: Int, of stream: AsyncStream<HypervisorEvent>,
                         within timeout: Duration = .seconds(10)) async -> [HypervisorEvent] {
    await withTaskGroup(of: [HypervisorEvent]?.self) { group in
        group.addTask {
            var events: [HypervisorEvent] = []
            for await event in stream {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        if let first { return first }
        return await group.next().flatMap { $0 } ?? []
    }
}

/// Subscribes, takes one event and leaves the loop; the stream goes out of scope on return.
private func consumeOne(_ session: LibvirtSession) async throws {
    let events = try await session.events()
    try await Raw.defineDomain(session, "ev-1")
    for await event in events {
        #expect(event == .domain(name: "ev-1", kind: .defined))
        break
    }
}

/// Whether the connection's hub has callbacks registered with libvirt. Asked on the connection's
/// queue, so cleanups enqueued before have run.
private func isRegistered(_ session: LibvirtSession) async throws -> Bool {
    let hub = session.connection.eventHub
    return try await session.run("inspect events") { _ in hub.isRegistered }
}

/// Polls `condition` every 10 ms for up to 10 s.
private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}

/// The descriptors of this process's Unix sockets connected to a libvirt daemon socket.
private func daemonSockets() -> Set<Int32> {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return Set(entries.compactMap { Int32($0) }.filter { descriptor in
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
        }
        guard status == 0, address.sun_family == sa_family_t(AF_UNIX) else { return false }
        let path = withUnsafeBytes(of: address.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return path.hasSuffix("/libvirt-sock")
    })
}

/// A weak reference that can be shared with `@Sendable` closures.
private final class WeakBox<T: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private weak var object: T?

    var value: T? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return object
        }
        set {
            lock.lock()
            object = newValue
            lock.unlock()
        }
    }
}

/// A thread-safe counter.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}
