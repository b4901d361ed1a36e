import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

/// One pass of the agent: fetch, verify, load, validate, observe, plan, apply, report.
///
/// A refused head (invalid, unsigned, a history rewrite, a mass delete) is never applied: the
/// pass enforces the last good commit instead and reports the refusal (`Stalled`). Failures
/// are classified in the pass record's outcome; the loop decides about retries.
final class ReconcilePass: PassRunner, @unchecked Sendable {
    // `sessionLock` guards `session`; the rest is used by one pass at a time.
    private let sessionLock = NSLock()
    private var session: (any HypervisorSession)?
    private var ledger: RestartLedger

    let config: AgentConfig
    let follower: SpecFollower
    let reconciler: Reconciler
    let state: AgentState
    let clock: any AgentClock
    /// Called with every new libvirt session (the service subscribes to its events).
    let onSession: @Sendable (any HypervisorSession) -> Void
    private let logger = Logger(label: "virtsync.agent")
    private var lastOutcome: (PassOutcome, String)?

    init(config: AgentConfig, follower: SpecFollower, reconciler: Reconciler, state: AgentState, clock: any AgentClock,
         ledger: RestartLedger, onSession: @escaping @Sendable (any HypervisorSession) -> Void) {
        self.config = config
        self.follower = follower
        self.reconciler = reconciler
        self.state = state
        self.clock = clock
        self.ledger = ledger
        self.onSession = onSession
    }

    /// Forgets the libvirt session (the connection closed); the next pass reconnects.
    func dropSession() {
        let dropped = sessionLock.withLock { () -> Bool in
            defer { session = nil }
            return session != nil
        }
        if dropped { state.metrics.registry.set(AgentMetrics.connected, 0) }
    }

    private func currentSession() async throws -> any HypervisorSession {
        if let existing = sessionLock.withLock({ session }) { return existing }
        let opened = try await reconciler.connector.connect(host: config.host, uri: config.libvirtURI)
        sessionLock.withLock { session = opened }
        state.metrics.registry.set(AgentMetrics.connected, 1)
        logger.info("connected to libvirt", metadata: ["uri": "\(opened.uri)"])
        onSession(opened)
        return opened
    }

    func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord {
        let started = clock.now()
        var record = PassRecord(id: id, trigger: trigger, triggerDetail: detail, startedAt: clock.wallNow(), outcome: .converged, reason: "Converged")
        state.progress(running: true)
        state.update { s in
            s.conditions.set(.reconciling, true, reason: "Pass", message: "pass \(id) (\(trigger.rawValue)\(detail.map { ": \($0)" } ?? ""))", at: clock.wallNow())
        }
        try? state.persist()

        var refusal: Refusal?
        await execute(&record, refusal: &refusal, stop: stop)

        record.seconds = clock.now() - started
        finish(record, refusal: refusal)
        state.progress(running: false)
        return record
    }

    /// The pass proper; fills `record` and `refusal`.
    private func execute(_ record: inout PassRecord, refusal: inout Refusal?, stop: StopFlag) async {
        var candidate: LoadedCommit?
        var isHead = false
        switch follower.head() {
        case .valid(let loaded):
            candidate = loaded
            isHead = true
            record.headCommit = loaded.commit.id.hex
        case .refused(let why):
            refusal = why
            record.headCommit = why.commit
            candidate = follower.fallback()
        }
        guard var loaded = candidate else {
            let why = refusal ?? Refusal(commit: nil, reason: "NoCommit", message: "no commit to enforce", failureClass: .stalled)
            record.outcome = why.failureClass == .transient ? .failed : .stalled
            record.reason = why.reason
            record.message = why.message + (follower.lastApplied == nil ? "; no earlier commit was ever applied, so nothing is enforced" : "")
            return
        }

        let session: any HypervisorSession
        do {
            session = try await currentSession()
        } catch {
            record.enforcedCommit = loaded.commit.id.hex
            record.outcome = .failed
            record.reason = "HostUnreachable"
            record.message = "\(error)"
            return
        }
        let host = config.host
        // One writer per host: an apply or another agent (of another spec) waits for this pass.
        let hostLock: HostLock
        do {
            hostLock = try await HostLock.acquire(directory: reconciler.inventory.directory, hostKey: session.hostKey,
                                                  holder: "virtsync agent, pid \(getpid()), owner \(loaded.desired.owner ?? "none")",
                                                  timeout: .seconds(30))
        } catch {
            record.enforcedCommit = loaded.commit.id.hex
            record.outcome = .failed
            record.reason = "HostLocked"
            record.message = "\(error)"
            return
        }
        defer { hostLock.release() }
        let own = DesiredState(hosts: loaded.desired.hosts.filter { $0.name == host }, settings: loaded.desired.settings,
                               specDigest: loaded.desired.specDigest, commit: loaded.desired.commit,
                               owner: loaded.desired.owner, adopt: loaded.desired.adopt)
        var observed = await reconciler.observe(own, sessions: [host: session], failed: [:])
        if let why = observed.unreachable[host] {
            dropSession()
            record.enforcedCommit = loaded.commit.id.hex
            record.outcome = .failed
            record.reason = "HostUnreachable"
            record.message = why
            return
        }
        state.progress()
        var sessions: [String: any HypervisorSession] = [host: session]
        if PeerView.needed(loaded.desired, observed: observed, host: host) {
            let peers = await PeerView.read(loaded.desired, except: host, reconciler: reconciler)
            observed.hosts.merge(peers.observed.hosts) { mine, _ in mine }
            observed.unreachable.merge(peers.observed.unreachable) { mine, _ in mine }
            sessions.merge(peers.sessions) { mine, _ in mine }
        }

        let options = PlanOptions(prune: config.prune, recorded: ["agent": host])
        // No fingerprint of the observed state: it is what a saved plan is checked against, and
        // the agent applies its plans at once. It was a third of an idle pass's CPU time.
        var plan = PeerView.ownSteps(Planner.plan(desired: loaded.desired, observed: observed, options: options, fingerprint: ""), host: host)
        do {
            try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: loaded.desired.settings.maxDeleteFraction,
                                            allow: config.allowMassDelete, owner: loaded.desired.owner)
            if isHead { follower.accept(loaded) }
        } catch {
            let why = Refusal(commit: loaded.commit.id.hex, reason: "MassDeleteRefused",
                              message: "commit \(loaded.commit.id.short): \(error.message)", failureClass: .stalled)
            refusal = why
            guard isHead, let good = follower.fallback(), good.commit.id != loaded.commit.id else {
                record.enforcedCommit = loaded.commit.id.hex
                record.outcome = .stalled
                record.reason = why.reason
                record.message = why.message
                return
            }
            follower.refuse(why)
            loaded = good
            isHead = false
            plan = PeerView.ownSteps(Planner.plan(desired: loaded.desired, observed: observed, options: options, fingerprint: ""), host: host)
        }
        record.enforcedCommit = loaded.commit.id.hex

        let now = clock.wallNow()
        let decision = ledger.limit(plan, observed: observed, desired: loaded.desired.placed(observed: observed), now: now)
        plan = decision.plan
        record.planned = Dictionary(plan.countsByAction.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: +)
        var names: Set<String> = []
        if let seen = observed.hosts[host] {
            state.metrics.managed(seen)
            names.formUnion(seen.domains.values.filter { $0.marker != nil }.map { "domain/\($0.model.name)" })
            names.formUnion(seen.networks.values.filter(\.managed).map { "network/\($0.model.name)" })
            names.formUnion(seen.pools.values.filter(\.managed).map { "pool/\($0.model.name)" })
        }
        names.formUnion(loaded.desired.hosts.flatMap { h in h.domains.map { "domain/\($0.name)" } + h.networks.map { "network/\($0.name)" } + h.pools.map { "pool/\($0.name)" } })
        state.setManaged(names)

        // Steps planned while enforcing a commit that was already applied are drift repairs.
        let lastApplied = follower.lastApplied?.hex
        let drift = lastApplied == loaded.commit.id.hex
            ? plan.steps.map { DriftItem(resource: "\($0.resource.kind.rawValue) \($0.resource.name)", action: $0.action.rawValue, reason: $0.reason) }
            : []
        record.drift = drift.count
        state.update { s in
            s.drift = drift
            s.restartLimited = decision.limited
        }
        state.metrics.registry.set(AgentMetrics.restartLimited, Double(decision.limited.count))

        let planErrors = plan.notes.filter { $0.severity == .error }
        var report = ApplyReport(results: [])
        if !plan.isEmpty {
            if !drift.isEmpty {
                logger.notice("drift found", metadata: ["commit": "\(loaded.commit.id.short)", "resources": "\(drift.map(\.resource).joined(separator: ", "))"])
            }
            logger.info("applying", metadata: ["commit": "\(loaded.commit.id.short)", "steps": "\(plan.steps.count)", "planned": "\(record.plannedSummary)"])
            if isHead { try? recordAttempt(loaded) }
            do {
                try await reconciler.forgetAbsent(observed, sessions: [host: session])
            } catch {
                logger.warning("inventory update failed", metadata: ["error": "\(error)"])
            }
            let metrics = state.metrics
            let progress = state
            let log = logger
            report = await Executor(maxParallel: config.parallel).run(plan, sessions: sessions, inventory: reconciler.inventory,
                                                                      stop: stop) { r in
                progress.progress()
                let outcome: String
                switch r.outcome {
                case .succeeded: outcome = "succeeded"
                case .failed(let why):
                    outcome = "failed"
                    log.warning("step failed", metadata: ["action": "\(r.step.action.rawValue)", "resource": "\(r.step.resource.kind.rawValue) \(r.step.resource.name)", "error": "\(why)"])
                case .skipped: outcome = "skipped"
                }
                metrics.step(r.step.action, outcome: outcome)
            }
            for result in report.results where result.outcome == .succeeded && result.step.action == .start {
                let key = "\(result.step.resource.host)/\(result.step.resource.name)"
                if decision.restarting.contains(key) {
                    ledger.recordRestart(key, at: now)
                    state.metrics.registry.increment(AgentMetrics.restarts)
                }
            }
            // A failed step may mean a broken connection (libvirt reports a closed socket as an
            // internal error): reconnecting costs milliseconds, so the next pass starts afresh.
            if report.failed > 0 { dropSession() }
        }
        do {
            try ledger.write(path: state.files.restarts)
        } catch {
            logger.warning("cannot write the restart ledger", metadata: ["error": "\(error)"])
        }
        record.succeeded = report.succeeded
        record.failedSteps = report.failed
        record.skipped = report.skipped

        if stop.isSet && report.skipped > 0 {
            record.outcome = .interrupted
            record.reason = "Stopping"
            record.message = "the agent is stopping: \(report.skipped) step(s) left for the next start"
        } else if !report.ok {
            record.outcome = .failed
            record.reason = "ApplyFailed"
            record.message = "\(report.failed) step(s) failed, \(report.skipped) skipped"
        } else if let refusal {
            record.outcome = refusal.failureClass == .transient ? .failed : .stalled
            record.reason = refusal.reason
            record.message = refusal.message
        } else if !planErrors.isEmpty {
            record.outcome = .stalled
            record.reason = "PlanConflict"
            record.message = planErrors.map(\.message).joined(separator: "; ")
        } else if !decision.limited.isEmpty {
            record.outcome = .waiting
            record.reason = "RestartLimitReached"
            record.message = decision.limited.values.sorted().joined(separator: "; ")
        } else {
            record.outcome = plan.isEmpty ? .converged : .applied
            record.reason = plan.isEmpty ? "Converged" : "Applied"
        }
        if isHead && report.ok && refusal == nil && planErrors.isEmpty && !(stop.isSet && report.skipped > 0) {
            do {
                try recordApplied(loaded)
            } catch {
                logger.error("cannot record the applied commit", metadata: ["error": "\(error)"])
            }
        } else if isHead && !report.ok {
            try? recordAttempt(loaded, error: record.message)
        }
    }

    private func recordAttempt(_ loaded: LoadedCommit, error: String? = nil) throws {
        try follower.records.update(follower.recordKey) { r in
            r.lastAttempted = loaded.commit.id.hex
            r.lastAttemptedAt = clock.wallNow()
            r.lastError = error
        }
    }

    private func recordApplied(_ loaded: LoadedCommit) throws {
        // An idle pass of an applied commit writes nothing.
        let id = loaded.commit.id.hex
        if let previous = follower.records.record(follower.recordKey),
           previous.lastApplied == id, previous.lastAttempted == id, previous.lastError == nil { return }
        let now = clock.wallNow()
        try follower.records.update(follower.recordKey) { r in
            r.lastAttempted = id
            r.lastAttemptedAt = now
            r.lastError = nil
            r.lastApplied = id
            r.lastAppliedSigner = loaded.signer?.description
            r.lastAppliedAt = now
        }
        logger.info("commit applied", metadata: ["commit": "\(loaded.commit.id.short)", "signer": "\(loaded.signer?.description ?? "-")"])
    }

    /// Publishes the pass: conditions, history, records, metrics, logs.
    private func finish(_ record: PassRecord, refusal: Refusal?) {
        let now = clock.wallNow()
        let source = follower.records.record(follower.recordKey)
        state.update { s in
            s.record(record)
            if let commit = source?.lastApplied {
                s.lastApplied = AgentStatus.Commit(commit: commit, signer: source?.lastAppliedSigner, at: source?.lastAppliedAt)
            }
            if let commit = source?.lastAttempted {
                s.lastAttempted = AgentStatus.Commit(commit: commit, at: source?.lastAttemptedAt, error: source?.lastError)
            }
            s.conditions.set(.reconciling, false, reason: "Idle", message: "last pass \(record.id): \(record.outcome.rawValue)", at: now)
            switch record.outcome {
            case .converged, .applied:
                s.conditions.set(.ready, true, reason: record.reason, message: "commit \(record.enforcedCommit?.prefix(12) ?? "?") is applied", at: now)
            default:
                s.conditions.set(.ready, false, reason: record.reason, message: record.message ?? record.outcome.rawValue, at: now)
            }
            if let refusal, refusal.failureClass == .stalled {
                s.conditions.set(.stalled, true, reason: refusal.reason, message: refusal.message, at: now)
            } else if record.outcome == .stalled {
                s.conditions.set(.stalled, true, reason: record.reason, message: record.message ?? "", at: now)
            } else {
                s.conditions.set(.stalled, false, reason: "Progressing", message: "", at: now)
            }
        }
        let registry = state.metrics.registry
        state.metrics.passFinished(record)
        registry.set(AgentMetrics.stalled, state.snapshot.conditions[.stalled]?.status == true ? 1 : 0)
        registry.set(AgentMetrics.ready, state.snapshot.conditions[.ready]?.status == true ? 1 : 0)
        if let at = source?.lastAppliedAt { registry.set(AgentMetrics.lastApplyTime, at.timeIntervalSince1970) }
        if let commit = follower.good, commit.commit.id.hex == source?.lastApplied {
            registry.set(AgentMetrics.lastAppliedCommitTime, Double(commit.commit.time))
        }
        do {
            try state.persist()
        } catch {
            logger.error("cannot write the status file", metadata: ["error": "\(error)"])
        }

        // Quiet when nothing changes: a pass like the one before logs at debug level.
        let signature = (record.outcome, record.reason + (record.message ?? ""))
        let same = lastOutcome.map { $0.0 == signature.0 && $0.1 == signature.1 } ?? false
        lastOutcome = signature
        var metadata: Logger.Metadata = [
            "pass": "\(record.id)", "trigger": "\(record.trigger.rawValue)", "outcome": "\(record.outcome.rawValue)",
            "reason": "\(record.reason)", "seconds": "\(String(format: "%.3f", record.seconds))",
        ]
        if let commit = record.enforcedCommit { metadata["commit"] = "\(commit.prefix(12))" }
        if let message = record.message { metadata["error"] = "\(message)" }
        if record.planned.values.reduce(0, +) > 0 { metadata["planned"] = "\(record.plannedSummary)" }
        let level: Logger.Level
        switch record.outcome {
        case .converged: level = same ? .debug : .info
        case .applied, .interrupted: level = .info
        case .waiting, .stalled: level = same ? .debug : .warning
        case .failed: level = .warning
        }
        logger.log(level: level, "pass done", metadata: metadata)
    }
}
