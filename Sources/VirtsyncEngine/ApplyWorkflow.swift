import Foundation
import VirtsyncCore

/// The one way to apply, whoever asks: `virtsync apply`, `apply --plan` and the agent's pass.
///
/// The sequence, once: refuse a history rewrite; connect (writers) to the hosts written and read
/// the others for the cluster view; take the host locks (one writer per host) before reading;
/// observe; plan; check a saved plan against the fresh one; refuse a mass delete; let the caller
/// look (confirmation, restart limits); record the attempt; forget inventory entries of what is
/// gone; execute; record the outcome. The frontends keep only options, printing, confirmation
/// and exit codes; the agent only its loop, status and triggers.
///
/// It is the only holder of a `HypervisorConnector` that hands out writers: whatever only plans
/// gets `reader` (`Reconciler` over `ReadOnlyConnector`).
public struct ApplyWorkflow: Sendable {
    private let connector: any HypervisorConnector
    /// The reading half, over the same connector seen read-only: for `plan` and dry runs.
    public let reader: Reconciler

    /// The inventory of networks, pools and volumes (per host, shared by every state directory).
    public var inventory: InventoryStore { reader.inventory }
    /// URI for hosts whose spec gives none.
    public var defaultURI: String { reader.defaultURI }

    public init(connector: any HypervisorConnector, inventory: InventoryStore, defaultURI: String = "qemu:///system") {
        self.connector = connector
        reader = Reconciler(reader: ReadOnlyConnector(connector), inventory: inventory, defaultURI: defaultURI)
    }

    /// Where the outcome of applying a commit is recorded (`sources.json` of a state directory).
    public struct CommitRecord: Sendable {
        public var store: SourceRecordStore
        public var key: String
        public var commit: String
        public var signer: String?

        public init(store: SourceRecordStore, key: String, commit: String, signer: String?) {
            self.store = store
            self.key = key
            self.commit = commit
            self.signer = signer
        }
    }

    /// What to apply and how.
    public struct Request: Sendable {
        public var desired: DesiredState
        public var options: PlanOptions
        /// The hosts written (and locked); nil for every host of `desired`. The agent writes its
        /// own host only and reads the others when the plan needs a cluster view.
        public var writeHosts: Set<String>?
        /// Read the other hosts too, for placement and migrations (the agent decides per pass).
        public var readOtherHosts: @Sendable (ObservedState) -> Bool = { _ in true }
        /// The unreachable hosts known dead, with the VMs each held (HA knows them): placement
        /// treats them as dead, not unknown.
        public var deadHosts: @Sendable () async -> [String: Set<String>] = { [:] }
        /// A reviewed plan to carry out instead of the fresh one; refused unless it is what
        /// virtsync plans now.
        public var saved: Plan?
        /// Why the commit does not descend from the last applied one, if it does not.
        public var historyRewrite: String?
        public var allowHistoryRewrite = false
        public var allowMassDelete = false
        /// Who takes the host locks (written into the lock file for a waiter's message).
        public var holder: String
        public var lockTimeout: Duration = .seconds(60)
        /// Where to record the commit; nil records nothing (a directory spec, or the agent
        /// enforcing an older commit).
        public var record: CommitRecord?
        public var maxParallel = 8
        public var maxParallelPerHost = 4
        /// Once set, no further step starts.
        public var stop: StopFlag?
        /// Fingerprint the observed state into the plan's basis (what a saved plan is checked
        /// against). The agent applies its plans at once and skips it: it was a third of an
        /// idle pass's CPU time.
        public var fingerprint = true
        /// Read the written hosts again once steps ran (`Outcome.after`): the agent's cluster view
        /// shows what its pass left, not what it found. Through a cached session that reads only
        /// the domains the steps touched.
        public var observeAfterApply = false
        /// Where volumes made from images get their verified local copy.
        public var images: (any ImageStore)?
        /// Progress of image downloads and uploads (a terminal's progress line).
        public var transferProgress: TransferProgressSink?

        public init(desired: DesiredState, options: PlanOptions, holder: String) {
            self.desired = desired
            self.options = options
            self.holder = holder
        }
    }

    /// Where the caller steps in.
    public struct Hooks: Sendable {
        /// Last changes to the plan before it runs (the agent keeps its own host's steps and
        /// applies restart limits).
        public var adjust: @Sendable (Plan, ObservedState) async -> Plan = { plan, _ in plan }
        /// Shown the plan that will run; false cancels (nothing is recorded or changed).
        public var approve: @Sendable (Plan, ObservedState) async throws -> Bool = { _, _ in true }
        /// After each step.
        public var onStep: @Sendable (StepResult) -> Void = { _ in }

        public init() {}
    }

    /// Why nothing was applied.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The commit does not descend from the last applied one.
        case historyRewrite(String)
        /// The plan deletes more than the spec's `maxDeleteFraction` of what is managed.
        case massDelete(String)
        /// The saved plan is not what virtsync plans now.
        case staleSavedPlan(String)
        /// A host to write could not be reached.
        case unreachable(host: String, reason: String)
        /// Another virtsync holds a host's lock (the message names it).
        case hostLocked(String)

        public var description: String {
            switch self {
            case .historyRewrite(let why):
                "refused: \(why). Nothing was applied. Review the change, then apply it with --allow-history-rewrite"
            case .massDelete(let why), .staleSavedPlan(let why), .hostLocked(let why): why
            case .unreachable(let host, let why): "host \(host) unreachable: \(why)"
            }
        }
    }

    /// What happened.
    public struct Outcome: Sendable {
        /// The plan that ran (or would have).
        public var plan: Plan
        public var observed: ObservedState
        /// Nil when nothing ran: refused, cancelled, or nothing to do.
        public var report: ApplyReport?
        public var refusal: Refusal?
        public var cancelled = false
        /// The written hosts as read after the steps ran (`Request.observeAfterApply`); nil when none ran.
        public var after: ObservedState?

        /// Plan notes of severity error (conflicts the plan could not resolve).
        public var planErrors: [PlanNote] { plan.notes.filter { $0.severity == .error } }
        /// Every step ran and succeeded, the plan had no errors, nothing was refused or cancelled.
        public var succeeded: Bool {
            refusal == nil && !cancelled && planErrors.isEmpty && (report?.ok ?? true)
        }
    }

    /// Applies `request`. Throws only when a record or the inventory cannot be written;
    /// everything else is in the outcome.
    public func run(_ request: Request, hooks: Hooks = Hooks()) async throws -> Outcome {
        let desired = request.desired
        let empty = Outcome(plan: Plan(basis: PlanBasis(specDigest: desired.specDigest, observedFingerprint: ""), steps: []),
                            observed: ObservedState())
        if let rewrite = request.historyRewrite, !request.allowHistoryRewrite {
            var refused = empty
            refused.refusal = .historyRewrite(rewrite)
            return refused
        }

        let written = request.writeHosts ?? Set(desired.hosts.map(\.name))
        var own = desired
        own.hosts = desired.hosts.filter { written.contains($0.name) }
        let (sessions, unreachable) = await connect(own)
        // One writer per host: the hosts are read only once their locks are held, so the plan
        // is made from what no other virtsync changes meanwhile.
        let locks: [HostLock]
        do {
            locks = try await HostLock.acquireAll(directory: inventory.directory, hostKeys: sessions.values.map(\.hostKey),
                                                  holder: request.holder, timeout: request.lockTimeout)
        } catch {
            var refused = empty
            refused.refusal = .hostLocked("\(error)")
            return refused
        }
        defer { locks.forEach { $0.release() } }

        var observed = await reader.observe(own, sessions: sessions, failed: unreachable)
        if request.writeHosts != nil, let host = written.sorted().first(where: { observed.unreachable[$0] != nil }) {
            var refused = empty
            refused.observed = observed
            refused.refusal = .unreachable(host: host, reason: observed.unreachable[host] ?? "")
            return refused
        }
        var all = sessions
        var others = desired
        others.hosts = desired.hosts.filter { !written.contains($0.name) }
        if !others.hosts.isEmpty, request.readOtherHosts(observed) {
            // Peers are read, not locked: a migration writes to its destination through the
            // source host's libvirt (peer to peer).
            let (peerSessions, peerFailed) = await connect(others)
            let peers = await reader.observe(others, sessions: peerSessions, failed: peerFailed)
            observed.hosts.merge(peers.hosts) { mine, _ in mine }
            observed.unreachable.merge(peers.unreachable) { mine, _ in mine }
            all.merge(peerSessions) { mine, _ in mine }
        }

        let dead = await request.deadHosts().filter { observed.hosts[$0.key] == nil }
        if !dead.isEmpty { observed.dead = dead }
        var plan = request.fingerprint
            ? await reader.plan(desired, observed: observed, options: request.options)
            : Planner.plan(desired: desired, observed: observed, options: request.options, fingerprint: "")
        if let saved = request.saved {
            do {
                try Self.check(saved, against: plan)
            } catch {
                return Outcome(plan: plan, observed: observed, refusal: .staleSavedPlan(error.message))
            }
            // The fresh plan is the saved one, step for step, and it carries what a plan file
            // never holds: secret values and the content of seeds, built again here and checked
            // against the saved digests by the comparison above.
            plan.basis = saved.basis
        }
        plan = await hooks.adjust(plan, observed)
        do {
            try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: desired.settings.maxDeleteFraction,
                                            allow: request.allowMassDelete || plan.basis.options["allow_mass_delete"] == "true",
                                            owner: desired.owner)
        } catch {
            return Outcome(plan: plan, observed: observed, refusal: .massDelete(error.message))
        }
        // What the hosts no longer have is forgotten on every read under the lock (the file is
        // written only when something changed), so a later namesake is never taken for ours.
        try await forgetAbsent(observed, sessions: sessions)
        var outcome = Outcome(plan: plan, observed: observed)
        guard try await hooks.approve(plan, observed) else {
            outcome.cancelled = true
            return outcome
        }
        if plan.isEmpty {
            if outcome.planErrors.isEmpty { try recordApplied(request.record) }
            return outcome
        }
        try record(request.record, error: nil)
        let executor = Executor(maxParallel: request.maxParallel, maxParallelPerHost: request.maxParallelPerHost,
                                images: request.images, transferProgress: request.transferProgress)
        let report = await executor.run(plan, sessions: all, inventory: inventory, stop: request.stop, progress: hooks.onStep)
        outcome.report = report
        if request.observeAfterApply && !report.results.isEmpty {
            outcome.after = await reader.observe(own, sessions: sessions, failed: unreachable)
        }
        let interrupted = (request.stop?.isSet ?? false) && report.skipped > 0
        if !report.ok && !interrupted {
            try record(request.record, error: "\(report.failed) step(s) failed, \(report.skipped) skipped")
        } else if report.ok && outcome.planErrors.isEmpty {
            try recordApplied(request.record)
        }
        return outcome
    }

    /// Plans and applies `desired` at once: no saved plan, no confirmation, no records, and
    /// (by default) no mass-delete guard. For tests and benchmarks, which apply exactly the plan.
    public func apply(_ desired: DesiredState, options: PlanOptions = PlanOptions(), allowMassDelete: Bool = true,
                      maxParallel: Int = 8, maxParallelPerHost: Int = 4) async throws -> Outcome {
        var request = Request(desired: desired, options: options, holder: "virtsync (library), pid \(getpid())")
        request.allowMassDelete = allowMassDelete
        request.maxParallel = maxParallel
        request.maxParallelPerHost = maxParallelPerHost
        return try await run(request)
    }

    /// A saved plan runs only if it is what virtsync would plan now.
    public static func check(_ saved: Plan, against fresh: Plan) throws(EngineError) {
        guard saved.basis.commit == fresh.basis.commit else {
            throw EngineError("the plan was made for commit \(saved.basis.commit?.prefix(12) ?? "none"), not \(fresh.basis.commit?.prefix(12) ?? "none")")
        }
        guard saved.basis.specDigest == fresh.basis.specDigest else {
            throw EngineError("the spec changed since the plan was made (spec \(saved.basis.specDigest.prefix(12)) → \(fresh.basis.specDigest.prefix(12))); run plan again")
        }
        // Another host first: its state differs too, but "changed" would hide the real mistake.
        for (name, uri) in (saved.basis.connections ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let now = fresh.basis.connections?[name], now != uri else { continue }
            throw EngineError("the plan was made for host \(name) at \(uri), but this apply reaches it at \(now): give --connect \(uri) "
                              + "(or the spec's Host uri it had), or plan again for \(now)")
        }
        guard saved.basis.observedFingerprint == fresh.basis.observedFingerprint else {
            throw EngineError("the hosts changed since the plan was made; run plan again")
        }
        guard saved.basis.options["connect"] == fresh.basis.options["connect"] else {
            throw EngineError("the plan was made for \(saved.basis.options["connect"] ?? "another host"), not \(fresh.basis.options["connect"] ?? "this one")")
        }
        // Same spec, same hosts: the same plan, unless the file was edited. Carry out only
        // what was reviewed and what virtsync would plan itself.
        guard saved.steps == fresh.steps else {
            throw EngineError("the saved plan's steps differ from what this spec and these hosts give; the plan file was edited or made by another virtsync version")
        }
    }

    /// Connects writers to every host of `desired` in parallel; failures by host name.
    private func connect(_ desired: DesiredState) async -> (sessions: [String: any HypervisorSession], failed: [String: String]) {
        let connector = connector
        return await Reconciler.connectAll(desired, defaultURI: defaultURI) { host, uri in try await connector.connect(host: host, uri: uri) }
    }

    /// Drops inventory entries of resources gone from the hosts written, and fills in the
    /// libvirt UUIDs of entries that lack one.
    private func forgetAbsent(_ observed: ObservedState, sessions: [String: any HypervisorSession]) async throws {
        for (name, host) in observed.hosts {
            guard let session = sessions[name] else { continue }
            try await inventory.forgetAbsent(host: session.hostKey, observed: host)
        }
    }

    private func record(_ record: CommitRecord?, error: String?) throws {
        guard let record else { return }
        try record.store.update(record.key) { r in
            r.lastAttempted = record.commit
            r.lastAttemptedAt = Date()
            r.lastError = error
        }
    }

    /// Records the commit as applied; an idle pass of an applied commit writes nothing.
    private func recordApplied(_ record: CommitRecord?) throws {
        guard let record else { return }
        if let previous = record.store.record(record.key),
           previous.lastApplied == record.commit, previous.lastAttempted == record.commit, previous.lastError == nil { return }
        let now = Date()
        try record.store.update(record.key) { r in
            r.lastAttempted = record.commit
            r.lastAttemptedAt = now
            r.lastError = nil
            r.lastApplied = record.commit
            r.lastAppliedSigner = record.signer
            r.lastAppliedAt = now
        }
    }
}
