import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine

/// The agent's own session, observed through an `ObservedCache` kept current by the session's
/// libvirt events: an idle pass reads the domains events named since the last pass (none, when
/// nothing happened) instead of every domain's XML. Everything virtsync changes through this
/// session is marked for the next read too. The CLI never uses it: it reads live state.
///
/// The cache subscribes to the events before its first full read, so no change between that
/// read and the subscription can be missed. Without events (a driver that has none, a failed
/// subscription) every read is a full one.
/// Told after each read of the own host: whether it was full, and how many domains it read.
package typealias ReadReport = @Sendable (_ full: Bool, _ domains: Int) -> Void

final class CachedSession: HypervisorSession, @unchecked Sendable {
    let base: any HypervisorSession
    private let cache: ObservedCache
    private let logger: Logger
    // `lock` guards `following` and `consumer`.
    private let lock = NSLock()
    private var following = false
    /// The subscription failed once: not tried again on this session.
    private var unfollowable = false
    /// The domains the last partial read asked for (tests look at it).
    private var asked: Set<String> = []
    var lastAsked: Set<String> { lock.withLock { asked } }
    private var consumer: Task<Void, Never>?
    private let onRead: ReadReport

    init(base: any HypervisorSession, resync: Duration, logger: Logger,
         onRead: @escaping ReadReport = { _, _ in }) {
        self.base = base
        self.cache = ObservedCache(resync: resync)
        self.logger = logger
        self.onRead = onRead
    }

    deinit { consumer?.cancel() }

    var uri: String { base.uri }
    var hostKey: String { base.hostKey }

    func observe(host: String) async throws -> ObservedHost {
        guard let reader = base as? any HypervisorDomainReader, await follow() else {
            return try await base.observe(host: host)
        }
        let started = ContinuousClock.now
        switch cache.begin() {
        case .full(let reason):
            do {
                let observed = try await base.observe(host: host)
                cache.storeFull(observed, at: started)
                onRead(true, observed.domains.count)
                logger.debug("read the whole host", metadata: ["reason": "\(reason)", "domains": "\(observed.domains.count)"])
                return observed
            } catch {
                cache.invalidate("the last full read failed")
                throw error
            }
        case .domains(let names):
            lock.withLock { asked = names }
            do {
                async let domains = reader.observeDomains(names)
                let rest = try await reader.observeAllButDomains(host: host)
                let observed = cache.merge(try await domains, asked: names, rest: rest)
                onRead(false, names.count)
                return observed
            } catch {
                cache.invalidate("the last read failed")
                for name in names { cache.touch(name) }
                throw error
            }
        }
    }

    func apply(_ step: PlanStep) async throws {
        defer { if step.resource.kind == .domain { cache.touch(step.resource.name) } }
        try await base.apply(step)
    }

    func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport {
        defer { cache.touch(step.resource.name) }
        return try await base.migrate(step, migration, destination: destination)
    }

    /// Subscribes to the session's events once; true while they are followed.
    private func follow() async -> Bool {
        let (following, unfollowable) = lock.withLock { (self.following, self.unfollowable) }
        if following { return true }
        guard !unfollowable, let source = base as? any HypervisorEventSource else { return false }
        do {
            let stream = try await source.events()
            let cache = cache, logger = logger
            let task = Task {
                for await event in stream { cache.note(event) }
                // The stream ended (the connection closed, or this session was dropped):
                // nothing is trusted until everything was read again.
                cache.invalidate("libvirt's event stream ended")
                logger.debug("libvirt event stream ended; the next read is a full one")
            }
            lock.withLock {
                self.following = true
                self.consumer = task
            }
            return true
        } catch {
            lock.withLock { self.unfollowable = true }
            logger.warning("cannot follow libvirt events; every pass reads the whole host", metadata: ["error": "\(error)"])
            return false
        }
    }
}
