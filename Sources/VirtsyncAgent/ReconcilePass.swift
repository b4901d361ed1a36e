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
package final class ReconcilePass: PassRunner, @unchecked Sendable {
    // One pass at a time uses `ledger`, `decision` and `lastOutcome`.
    private var ledger: RestartLedger
    /// The ledger as last written (or read at start): it is written only when it changed.
    private var writtenLedger: RestartLedger
    private var decision: RestartLedger.Decision?

    let config: AgentConfig
    let follower: SpecFollower
    let workflow: ApplyWorkflow
    let connector: AgentConnector
    let state: AgentState
    let clock: any AgentClock
    /// HA, when the configuration has an `ha` section: it takes the power of HA VMs.
    let ha: AgentHA?
    /// Reads the secrets the spec's VMs use, every pass (a host file may change without a commit).
    let secrets: any SecretReader
    /// Where volumes made from OS images get their verified copy.
    let images: (any ImageStore)?
    private let logger = Logger(label: "virtsync.agent")
    private var lastOutcome: (PassOutcome, String)?
    /// The number of the pass running (for the steps it records).
    private var currentPass: Int?

    package init(config: AgentConfig, follower: SpecFollower, workflow: ApplyWorkflow, connector: AgentConnector, state: AgentState,
         clock: any AgentClock, ledger: RestartLedger, ha: AgentHA? = nil,
         secrets: any SecretReader = NoSecrets(reason: "the agent reads no secrets"), images: (any ImageStore)? = nil) {
        self.secrets = secrets
        self.images = images
        self.config = config
        self.follower = follower
        self.workflow = workflow
        self.connector = connector
        self.state = state
        self.clock = clock
        self.ledger = ledger
        self.writtenLedger = ledger
        self.ha = ha
    }

    /// Forgets the libvirt session (the connection closed); the next pass reconnects.
    func dropSession() {
        if connector.drop() { state.metrics.set(AgentMetrics.connected, 0) }
    }

    package func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord {
        let started = clock.now()
        currentPass = id
        var record = PassRecord(id: id, trigger: trigger, triggerDetail: detail, startedAt: clock.wallNow(), outcome: .converged, reason: "Converged")
        state.progress(running: true)
        state.update { s in
            s.conditions.set(.reconciling, true, reason: "Pass", message: "pass \(id) (\(trigger.rawValue)\(detail.map { ": \($0)" } ?? ""))", at: clock.wallNow())
        }
        try? state.persist()

        var refusal: Refusal?
        if let suspension = state.refreshSuspension() {
            // Suspended: nothing is fetched, planned or applied (HA is its own service and
            // keeps fencing and taking over).
            record.outcome = .suspended
            record.reason = "Suspended"
            record.message = "suspended " + suspension.summary
        } else {
            await execute(&record, refusal: &refusal, stop: stop)
        }

        record.seconds = clock.now() - started
        finish(record, refusal: refusal)
        state.progress(running: false)
        return record
    }

    /// The pass proper; fills `record` and `refusal`.
    private func execute(_ record: inout PassRecord, refusal: inout Refusal?, stop: StopFlag) async {
        var candidate: LoadedCommit?
        var isHead = false
        switch await follower.head() {
        case .valid(let loaded):
            candidate = loaded
            isHead = true
            record.headCommit = loaded.commit.id.hex
        case .refused(let why):
            refusal = why
            record.headCommit = why.commit
            candidate = await follower.fallback()
        }
        guard var loaded = candidate else {
            let why = refusal ?? Refusal(commit: nil, reason: "NoCommit", message: "no commit to enforce", failureClass: .stalled)
            record.outcome = why.failureClass == .transient ? .failed : .stalled
            record.reason = why.reason
            record.message = why.message + (follower.lastApplied == nil ? "; no earlier commit was ever applied, so nothing is enforced" : "")
            return
        }

        let appliedBefore = follower.lastApplied
        var outcome: ApplyWorkflow.Outcome
        do {
            outcome = try await apply(loaded, isHead: isHead, stop: stop)
            if case .massDelete(let message)? = outcome.refusal {
                let why = Refusal(commit: loaded.commit.id.hex, reason: "MassDeleteRefused",
                                  message: "commit \(loaded.commit.id.short): \(message)", failureClass: .stalled)
                refusal = why
                guard isHead, let good = await follower.fallback(), good.commit.id != loaded.commit.id else {
                    record.enforcedCommit = loaded.commit.id.hex
                    record.outcome = .stalled
                    record.reason = why.reason
                    record.message = why.message
                    return
                }
                // The head is refused; the last good commit stays enforced.
                follower.refuse(why)
                loaded = good
                isHead = false
                outcome = try await apply(loaded, isHead: false, stop: stop)
            }
        } catch {
            record.enforcedCommit = loaded.commit.id.hex
            record.outcome = .failed
            record.reason = "StateWriteFailed"
            record.message = "\(error)"
            return
        }
        record.enforcedCommit = loaded.commit.id.hex
        switch outcome.refusal {
        case .unreachable(_, let why)?:
            dropSession()
            record.outcome = .failed
            record.reason = "HostUnreachable"
            record.message = why
            return
        case .hostLocked(let why)?:
            record.outcome = .failed
            record.reason = "HostLocked"
            record.message = why
            return
        case .massDelete(let why)?, .staleSavedPlan(let why)?, .historyRewrite(let why)?:
            // The fallback commit was refused too (it was applied before, so only a changed
            // host gets here): stalled until a new commit or a human.
            record.outcome = .stalled
            record.reason = "MassDeleteRefused"
            record.message = why
            return
        case nil:
            break
        }
        if isHead { follower.accept(loaded) }

        let plan = outcome.plan
        let report = outcome.report ?? ApplyReport(results: [])
        state.activity.recordApplied(report, after: outcome.after?.hosts[config.host])
        let now = clock.wallNow()
        for result in report.results where result.outcome == .succeeded && result.step.action == .start {
            let key = "\(result.step.resource.host)/\(result.step.resource.name)"
            if decision?.restarting.contains(key) == true {
                ledger.recordRestart(key, at: now)
                state.metrics.restarted()
            }
        }
        // A failed step may mean a broken connection (libvirt reports a closed socket as an
        // internal error): reconnecting costs milliseconds, so the next pass starts afresh.
        if report.failed > 0 { dropSession() }
        do {
            if ledger != writtenLedger {
                try ledger.write(path: state.files.restarts)
                writtenLedger = ledger
            }
        } catch {
            logger.warning("cannot write the restart ledger", metadata: ["error": "\(error)"])
        }
        record.succeeded = report.succeeded
        record.failedSteps = report.failed
        record.skipped = report.skipped

        let planErrors = outcome.planErrors
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
        } else if let limited = decision?.limited, !limited.isEmpty {
            record.outcome = .waiting
            record.reason = "RestartLimitReached"
            record.message = limited.values.sorted().joined(separator: "; ")
        } else {
            record.outcome = plan.isEmpty ? .converged : .applied
            record.reason = plan.isEmpty ? "Converged" : "Applied"
        }
        if isHead && appliedBefore != loaded.commit.id && follower.lastApplied == loaded.commit.id {
            logger.info("commit applied", metadata: ["commit": "\(loaded.commit.id.short)", "signer": "\(loaded.signer?.description ?? "-")"])
        }
        record.planned = Dictionary(plan.countsByAction.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: +)
        record.drift = state.snapshot.drift.count
    }

    /// One apply of `loaded` to this host through the engine's workflow: the agent adds only
    /// its own host's steps, restart limits, drift and metrics.
    private func apply(_ loaded: LoadedCommit, isHead: Bool, stop: StopFlag) async throws -> ApplyWorkflow.Outcome {
        let host = config.host
        let bound = await secrets.bind(loaded.desired)
        let desired = ha?.prepare(bound) ?? bound
        var request = ApplyWorkflow.Request(desired: desired, options: PlanOptions(prune: config.prune, recorded: ["agent": host]),
                                            holder: "virtsync agent, pid \(getpid()), owner \(loaded.desired.owner ?? "none")")
        request.writeHosts = [host]
        request.readOtherHosts = { observed in PeerView.needed(desired, observed: observed, host: host) }
        if let ha { request.deadHosts = { await ha.deadHosts() } }
        request.allowMassDelete = config.allowMassDelete
        request.lockTimeout = .seconds(30)
        request.record = isHead ? ApplyWorkflow.CommitRecord(store: follower.records, key: follower.recordKey,
                                                            commit: loaded.commit.id.hex, signer: loaded.signer?.description) : nil
        request.maxParallel = config.parallel
        request.stop = stop
        request.fingerprint = false
        request.observeAfterApply = true
        request.images = images

        var hooks = ApplyWorkflow.Hooks()
        let ha = ha
        hooks.adjust = { [self] plan, observed in
            var plan = plan
            if let ha { plan = await ha.planned(plan, desired: desired, observed: observed) }
            let limited = ledger.limit(PeerView.ownSteps(plan, host: host), observed: observed,
                                       desired: desired.placed(observed: observed), now: clock.wallNow())
            decision = limited
            return limited.plan
        }
        let lastApplied = follower.lastApplied?.hex
        hooks.approve = { [self] plan, observed in
            state.progress()
            observeManaged(observed, desired: desired)
            state.activity.recordRead(desired: desired, observed: observed, plan: plan)
            // Steps planned while enforcing a commit that was already applied are drift repairs.
            let drift = lastApplied == loaded.commit.id.hex
                ? plan.steps.map { DriftItem(resource: "\($0.resource.kind.rawValue) \($0.resource.name)", action: $0.action.rawValue, reason: $0.reason) }
                : []
            let limited = decision?.limited ?? [:]
            state.update { s in
                s.drift = drift
                s.restartLimited = limited
            }
            state.metrics.set(AgentMetrics.restartLimited, Double(limited.count))
            if !plan.isEmpty {
                if !drift.isEmpty {
                    logger.notice("drift found", metadata: ["commit": "\(loaded.commit.id.short)", "resources": "\(drift.map(\.resource).joined(separator: ", "))"])
                }
                let counts = plan.countsByAction
                let planned = StepAction.allCases.compactMap { a in counts[a].map { "\($0) \(a.rawValue)" } }.joined(separator: ", ")
                logger.info("applying", metadata: ["commit": "\(loaded.commit.id.short)", "steps": "\(plan.steps.count)", "planned": "\(planned)"])
            }
            return true
        }
        let metrics = state.metrics
        let progress = state
        let log = logger
        let passID = currentPass
        let wallClock = clock
        hooks.onStep = { r in
            progress.progress()
            progress.activity.recordStep(r, pass: passID, at: wallClock.wallNow())
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
        decision = nil
        return try await workflow.run(request, hooks: hooks)
    }

    /// The managed-resource gauges and the names `virtsync status` lists.
    private func observeManaged(_ observed: ObservedState, desired: DesiredState) {
        var names: Set<String> = []
        if let seen = observed.hosts[config.host] {
            state.metrics.managed(seen)
            // By key, without copying each observed domain into a filtered array first.
            for (name, index) in zip(seen.domains.keys, seen.domains.values.indices) where seen.domains.values[index].marker != nil {
                names.insert("domain/\(name)")
            }
            names.formUnion(seen.networks.values.filter(\.managed).map { "network/\($0.model.name)" })
            names.formUnion(seen.pools.values.filter(\.managed).map { "pool/\($0.model.name)" })
        }
        names.formUnion(desired.hosts.flatMap { h in h.domains.map { "domain/\($0.name)" } + h.networks.map { "network/\($0.name)" } + h.pools.map { "pool/\($0.name)" } })
        state.setManaged(names)
    }

    /// Publishes the pass: conditions, history, records, metrics, logs.
    private func finish(_ record: PassRecord, refusal: Refusal?) {
        let now = clock.wallNow()
        state.activity.setRefused(refusal.map { HostActivity.Refused(reason: $0.reason, message: $0.message, location: $0.location, commit: $0.commit) })
        let source = follower.records.record(follower.recordKey)
        state.update { s in
            s.record(record)
            if let commit = source?.lastApplied {
                s.lastApplied = AgentStatus.Commit(commit: commit, signer: source?.lastAppliedSigner, at: source?.lastAppliedAt)
            }
            if let commit = source?.lastAttempted {
                s.lastAttempted = AgentStatus.Commit(commit: commit, at: source?.lastAttemptedAt, error: source?.lastError)
            }
            guard record.outcome != .suspended else {
                // Ready and Stalled keep the word of the last pass that ran.
                s.conditions.set(.reconciling, false, reason: "Suspended", message: record.message ?? "suspended", at: now)
                return
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
        let registry = state.metrics
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
        case .suspended: level = same ? .debug : .notice
        case .waiting, .stalled: level = same ? .debug : .warning
        case .failed: level = .warning
        }
        logger.log(level: level, "pass done", metadata: metadata)
    }
}
