import Foundation
import VirtsyncCore

/// Reads some domains of a host by name, and everything of a host but its domains: what an
/// event-maintained view needs besides a full `observe`.
public protocol HypervisorDomainReader: HypervisorReader {
    /// The named domains as `observe` would give them; a name with no domain is absent.
    /// - Throws: `HypervisorError` (`.unreachable`, `.timeout`, `.other` for XML that cannot be
    ///   parsed).
    func observeDomains(_ names: Set<String>) async throws -> [String: ObservedDomain]

    /// Networks, pools, volumes, secret objects and the host's facts, without any domain.
    func observeAllButDomains(host: String) async throws -> ObservedHost
}

/// An agent's view of its own host, kept current by the hypervisor's events (an informer, in
/// Kubernetes' words): a pass reads again only the domains an event named since the last pass,
/// and networks, pools, volumes and secrets (a handful, and storage changes have no events) in
/// full. Everything is read again (a resync) on the first read, after an event was lost, after
/// the connection closed, and every `resync` interval; never between.
///
/// A domain counts as changed from the moment its event is noted until a read taken after that
/// moment. Events arriving while a read runs mark their domains for the next read, so nothing
/// an event names is missed, at worst read twice.
public final class ObservedCache: @unchecked Sendable {
    /// What the next read must cover.
    public enum Refresh: Equatable, Sendable {
        /// Everything, and why.
        case full(reason: String)
        /// These domains (possibly none) and everything but domains.
        case domains(Set<String>)
    }

    // `lock` guards every `var`.
    private let lock = NSLock()
    private var domains: [String: ObservedDomain]?
    private var changed: Set<String> = []
    private var resyncReason: String? = "first read"
    private var lastFull: ContinuousClock.Instant?
    private let resync: Duration
    private let clock: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - resync: how often everything is read again whatever the events said.
    ///   - clock: now (tests move it).
    public init(resync: Duration, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.resync = resync
        self.clock = clock
    }

    /// Takes note of an event. Called from the event stream's consumer.
    public func note(_ event: HypervisorEvent) {
        lock.withLock {
            switch event {
            case .domain(let name, _): changed.insert(name)
            case .network, .pool: break // read in full on every pass
            case .eventsLost: resyncReason = resyncReason ?? "libvirt events were lost"
            case .connectionClosed: resyncReason = resyncReason ?? "the connection closed"
            }
        }
    }

    /// Marks a domain as changed (virtsync itself changed it).
    public func touch(_ name: String) {
        lock.withLock { _ = changed.insert(name) }
    }

    /// Marks everything for the next read.
    public func invalidate(_ reason: String) {
        lock.withLock { resyncReason = resyncReason ?? reason }
    }

    /// What the next read must cover; clears the marks it covers. The caller reads, then calls
    /// `store` (or `invalidate` when the read failed).
    public func begin() -> Refresh {
        lock.withLock {
            if domains == nil || resyncReason != nil || lastFull.map({ clock() - $0 >= resync }) ?? true {
                let reason = resyncReason ?? (domains == nil ? "first read" : "the resync interval passed")
                resyncReason = nil
                changed.removeAll()
                return .full(reason: reason)
            }
            defer { changed.removeAll() }
            return .domains(changed)
        }
    }

    /// Keeps what a full read gave.
    public func storeFull(_ observed: ObservedHost, at started: ContinuousClock.Instant) {
        lock.withLock {
            domains = observed.domains
            lastFull = started
        }
    }

    /// Merges the domains a partial read gave (`names` were asked for; those absent are gone)
    /// into the kept ones, and returns the host's view with `rest` (everything but domains).
    public func merge(_ read: [String: ObservedDomain], asked names: Set<String>, rest: ObservedHost) -> ObservedHost {
        lock.withLock {
            var kept = domains ?? [:]
            for name in names { kept[name] = read[name] }
            domains = kept
            var observed = rest
            observed.domains = kept
            return observed
        }
    }

    /// The number of domains kept (for status and tests).
    public var count: Int { lock.withLock { domains?.count ?? 0 } }
}
