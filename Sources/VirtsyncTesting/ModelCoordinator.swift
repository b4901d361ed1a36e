import Foundation
import VirtsyncCore
import VirtsyncEngine

/// A model of etcd as HA uses it, for tests of the HA runner (and the simulator): linearizable
/// keys with one revision counter, leases that expire `ttl` after their last renewal on the
/// model's clock, member keys that vanish with their lease, conditional claims, and watchers that
/// get a view after every change. Each host talks through `client(for:)`, which a test can cut
/// off (every call throws, as from a partitioned host).
public final class ModelCoordinator: @unchecked Sendable {
    // `lock` guards every `var`.
    fileprivate let lock = NSLock()
    private let now: @Sendable () -> Duration
    fileprivate var published: [String: Set<String>] = [:]
    private var revision: Int64 = 1
    private var leases: [Int64: (ttl: Duration, expiresAt: Duration)] = [:]
    private var members: [String: Int64] = [:]
    private var owners: [String: OwnerRecord] = [:]
    private var cutOff: Set<String> = []
    private var watchers: [UUID: AsyncThrowingStream<HAClusterView, any Error>.Continuation] = [:]

    /// A model whose leases run on `now`.
    public init(now: @escaping @Sendable () -> Duration) {
        self.now = now
    }

    /// What `host` uses as its `HACoordinator`.
    public func client(for host: String) -> any HACoordinator { Client(model: self, host: host) }

    /// Cuts `host` off (true) or reconnects it (false): its calls throw while cut off.
    public func setCutOff(_ host: String, _ value: Bool) {
        lock.withLock {
            if value { cutOff.insert(host) } else { cutOff.remove(host) }
        }
    }

    /// Expires the leases whose time has come (their member keys go with them), as etcd's leader
    /// does on its own; tests call it after moving the clock.
    public func expireLeases() {
        let view: HAClusterView? = lock.withLock {
            let at = now()
            let expired = leases.filter { $0.value.expiresAt <= at }.map(\.key)
            guard !expired.isEmpty else { return nil }
            for id in expired { leases[id] = nil }
            let before = members.count
            members = members.filter { !expired.contains($0.value) }
            guard members.count != before else { return nil }
            revision += 1
            return currentView()
        }
        if let view { broadcast(view) }
    }

    /// The current view, without going through a host.
    public var snapshot: HAClusterView { lock.withLock { currentView() } }

    private func currentView() -> HAClusterView {
        HAClusterView(revision: revision, members: members, owners: owners)
    }

    private func broadcast(_ view: HAClusterView) {
        let continuations = lock.withLock { Array(watchers.values) }
        for continuation in continuations { continuation.yield(view) }
    }

    fileprivate func reachable(_ host: String) throws {
        if lock.withLock({ cutOff.contains(host) }) { throw ModelCoordinatorError.unreachable(host) }
    }

    fileprivate func join(host: String, lease: Int64, ttl: Duration, retry: Bool, replacing: Int64?) throws {
        try reachable(host)
        expireLeases()
        let view: HAClusterView? = try lock.withLock {
            if let replacing, leases.removeValue(forKey: replacing) != nil {
                members = members.filter { $0.value != replacing }
                revision += 1
            }
            if leases[lease] != nil {
                guard retry else { throw HAJoinError.leaseIDTaken(lease) }
            } else {
                leases[lease] = (ttl, now() + ttl)
            }
            if let held = members[host] {
                guard held == lease else { throw HAJoinError.memberKeyHeld(host: host, lease: held) }
                return nil
            }
            members[host] = lease
            revision += 1
            return currentView()
        }
        if let view { broadcast(view) }
    }

    fileprivate func renew(host: String, lease: Int64) throws -> Bool {
        try reachable(host)
        expireLeases()
        return lock.withLock {
            guard let held = leases[lease] else { return false }
            leases[lease] = (held.ttl, now() + held.ttl)
            return true
        }
    }

    fileprivate func view(host: String) throws -> HAClusterView {
        try reachable(host)
        expireLeases()
        return snapshot
    }

    fileprivate func changes(host: String, after revision: Int64) -> AsyncThrowingStream<HAClusterView, any Error> {
        let (stream, continuation) = AsyncThrowingStream<HAClusterView, any Error>.makeStream()
        if lock.withLock({ cutOff.contains(host) }) {
            continuation.finish(throwing: ModelCoordinatorError.unreachable(host))
            return stream
        }
        let id = UUID()
        let current: HAClusterView = lock.withLock {
            watchers[id] = continuation
            return currentView()
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.watchers.removeValue(forKey: id) }
        }
        if current.revision > revision { continuation.yield(current) }
        return stream
    }

    fileprivate func leave(host: String, lease: Int64) throws {
        try reachable(host)
        let view: HAClusterView? = lock.withLock {
            guard leases.removeValue(forKey: lease) != nil else { return nil }
            members = members.filter { $0.value != lease }
            revision += 1
            return currentView()
        }
        if let view { broadcast(view) }
    }

    fileprivate func claim(vm: String, host: String, _ claim: HAClaim) throws -> OwnerRecord? {
        try reachable(host)
        expireLeases()
        let outcome: (OwnerRecord, HAClusterView)? = lock.withLock {
            guard owners[vm]?.epoch == claim.expectedEpoch else { return nil }
            if claim.notAttached.contains(where: { members[$0.key] == $0.value }) { return nil }
            // The leases the record names must still be alive (their member keys on them).
            guard claim.attached(claimant: host).allSatisfy({ members[$0.key] == $0.value }) else { return nil }
            revision += 1
            let record = claim.record(claimant: host, epoch: revision)
            owners[vm] = record
            return (record, currentView())
        }
        guard let outcome else { return nil }
        broadcast(outcome.1)
        return outcome.0
    }

    /// Cuts every watch of `host` (as a partition does); its next `view()` throws while cut off.
    public func breakWatches() {
        let continuations: [AsyncThrowingStream<HAClusterView, any Error>.Continuation] = lock.withLock {
            defer { watchers = [:] }
            return Array(watchers.values)
        }
        for continuation in continuations { continuation.finish(throwing: ModelCoordinatorError.watchBroken) }
    }

    private struct Client: HACoordinator {
        let model: ModelCoordinator
        let host: String

        func join(host: String, lease: Int64, ttl: Duration, retry: Bool, replacing: Int64?) async throws {
            try model.join(host: host, lease: lease, ttl: ttl, retry: retry, replacing: replacing)
        }
        func renew(lease: Int64) async throws -> Bool { try model.renew(host: host, lease: lease) }
        func view() async throws -> HAClusterView { try model.view(host: host) }
        func changes(after revision: Int64) -> AsyncThrowingStream<HAClusterView, any Error> { model.changes(host: host, after: revision) }
        func claim(vm: String, host: String, _ claim: HAClaim) async throws -> OwnerRecord? { try model.claim(vm: vm, host: host, claim) }
        func leave(lease: Int64) async throws { try model.leave(host: host, lease: lease) }
        func publish(host: String, vms: Set<String>) async throws {
            try model.reachable(self.host)
            model.lock.withLock { model.published[host] = vms }
        }
        func inventories() async throws -> [String: Set<String>] {
            try model.reachable(host)
            return model.lock.withLock { model.published }
        }
    }
}

/// Why a call to the model coordinator failed.
public enum ModelCoordinatorError: Error, Sendable {
    case unreachable(String)
    case watchBroken
    case alreadyRunning(String)
    case notRunning(String)
    case migrationFailed(String)
}

/// A host's HA domains in memory: started and stopped by the HA runner, with every start and
/// stop recorded with the time it happened, so a test can check no VM ever ran on two hosts.
public final class ModelDomains: HADomainControl, @unchecked Sendable {
    // `lock` guards every `var`.
    private let lock = NSLock()
    private var running: [String: Int64] = [:]
    private var defined: Set<String>
    public let host: String
    private let journal: ModelJournal

    public init(host: String, defined: Set<String>, journal: ModelJournal) {
        self.host = host
        self.defined = defined
        self.journal = journal
    }

    public var runningNow: [String: Int64] { lock.withLock { running } }

    /// A VM found running (as after a reboot with a stale copy, or before HA was turned on).
    public func setRunning(_ vm: String, epoch: Int64?) {
        lock.withLock { running[vm] = epoch ?? 0 }
        journal.record(host: host, vm: vm, running: true)
    }

    /// Everything stops (a host that dies takes its guests with it).
    public func killAll() {
        let names = lock.withLock { () -> [String] in
            defer { running = [:] }
            return Array(running.keys)
        }
        for name in names { journal.record(host: host, vm: name, running: false) }
    }

    public func domains(_ names: Set<String>) async throws -> [String: HALocalDomain] {
        lock.withLock {
            var out: [String: HALocalDomain] = [:]
            for name in names where defined.contains(name) {
                out[name] = HALocalDomain(running: running[name] != nil, epoch: running[name].flatMap { $0 == 0 ? nil : $0 })
            }
            return out
        }
    }

    public func start(vm: String, epoch: Int64) async throws {
        // As libvirt: a running domain is not started again.
        try lock.withLock {
            if running[vm] != nil { throw ModelCoordinatorError.alreadyRunning(vm) }
            running[vm] = epoch
            defined.insert(vm)
        }
        journal.record(host: host, vm: vm, running: true)
    }

    public func hardStop(vm: String) async throws {
        let was = lock.withLock { running.removeValue(forKey: vm) }
        if was != nil { journal.record(host: host, vm: vm, running: false) }
    }

    public func mark(vm: String, epoch: Int64) async throws {
        try lock.withLock {
            guard running[vm] != nil else { throw ModelCoordinatorError.notRunning(vm) }
            running[vm] = epoch
        }
    }

    /// A live migration of `vm` to `target` (as libvirt's, peer to peer): the copy stops here
    /// and runs there with the same marker, the definition moves with it. Throws when it does
    /// not run here, or when `fails` (the copy then keeps running here).
    public func migrate(_ vm: String, to target: ModelDomains, fails: Bool = false) throws {
        let epoch: Int64 = try lock.withLock {
            guard let epoch = running[vm] else { throw ModelCoordinatorError.notRunning(vm) }
            if fails { throw ModelCoordinatorError.migrationFailed(vm) }
            running[vm] = nil
            defined.remove(vm)
            return epoch
        }
        journal.record(host: host, vm: vm, running: false)
        target.arrive(vm, epoch: epoch)
    }

    private func arrive(_ vm: String, epoch: Int64) {
        lock.withLock {
            running[vm] = epoch
            defined.insert(vm)
        }
        journal.record(host: host, vm: vm, running: true)
    }
}

/// Where each VM runs, across the model hosts, and whether two copies ever ran at once.
public final class ModelJournal: @unchecked Sendable {
    private let lock = NSLock()
    private var where_: [String: Set<String>] = [:]
    private var doubleRuns: [String] = []

    public init() {}

    func record(host: String, vm: String, running: Bool) {
        lock.withLock {
            if running { where_[vm, default: []].insert(host) } else { where_[vm]?.remove(host) }
            if (where_[vm]?.count ?? 0) > 1 { doubleRuns.append("\(vm) on \(where_[vm]!.sorted())") }
        }
    }

    /// The hosts each VM runs on now.
    public var running: [String: Set<String>] { lock.withLock { where_.filter { !$0.value.isEmpty } } }
    public var doubles: [String] { lock.withLock { doubleRuns } }
}
