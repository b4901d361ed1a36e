import Foundation
import VirtsyncCore
import VirtsyncEngine

/// What the agent keeps for the cluster view beyond its status: the last pass's read of its host
/// (the spec as placed, what was observed, its own plan), the steps it carried out, and the
/// refusal of the head commit with where in the spec it failed. Every access holds the lock.
package final class HostActivity: @unchecked Sendable {
    /// The last pass's read.
    package struct Read: Sendable {
        var desired: DesiredState
        var observed: ObservedState
        var plan: Plan
        /// `desired` as placed on `observed`, made at the first view after the read (placement
        /// runs once per read, not per request, and never in the pass).
        var placed: DesiredState?
    }

    /// Why the head commit is refused, for the banner.
    struct Refused: Sendable, Equatable {
        var reason: String
        var message: String
        var location: SourceLocation?
        var commit: String?
    }

    private let lock = NSLock()
    private var read: Read?
    private var lastSteps: [String: VMView.LastStep] = [:]
    private var migrations: [MigrationView] = []
    private var events: [EventView] = []
    private var refused: Refused?
    /// Counts the changes of `read`, so a placement made outside the lock is kept only for the read it was made from.
    private var generation = 0

    package init() {}

    func recordRead(desired: DesiredState, observed: ObservedState, plan: Plan) {
        lock.withLock {
            read = Read(desired: desired, observed: observed, plan: plan)
            generation += 1
        }
    }

    /// What the pass's steps did: the plan keeps only the steps that did not succeed (what
    /// would run next), and the own host is as read again after them, when it was.
    func recordApplied(_ report: ApplyReport, after host: ObservedHost?) {
        let done = Set(report.results.filter { $0.outcome == .succeeded }.map(\.step.id))
        lock.withLock {
            read?.plan.steps.removeAll { done.contains($0.id) }
            if let host { read?.observed.hosts[host.name] = host }
            read?.placed = nil
            generation += 1
        }
    }

    var lastRead: Read? { lock.withLock { read } }

    /// The last read with its placed spec, placing it on first use.
    func placedRead() -> Read? {
        guard let (found, seen) = lock.withLock({ read.map { ($0, generation) } }) else { return nil }
        var current = found
        if current.placed != nil { return current }
        current.placed = ClusterViewBuilder.placed(current.desired, observed: current.observed)
        let placed = current.placed
        lock.withLock {
            // Kept unless a newer read came meanwhile.
            if generation == seen { read?.placed = placed }
        }
        return current
    }

    func setRefused(_ value: Refused?) { lock.withLock { refused = value } }

    /// A step the pass carried out: the VM's last step, and a migration or a failure on the timeline.
    func recordStep(_ result: StepResult, pass: Int?, at now: Date) {
        let step = result.step
        let outcome: String
        var message: String?
        switch result.outcome {
        case .succeeded: outcome = "succeeded"
        case .failed(let why): outcome = "failed"; message = why
        case .skipped(let why): outcome = "skipped"; message = why
        }
        lock.withLock {
            if step.resource.kind == .domain {
                lastSteps[step.resource.name] = VMView.LastStep(action: step.action.rawValue, host: step.resource.host, outcome: outcome,
                                                                message: message, at: now, seconds: result.seconds, pass: pass)
            }
            if case .migration(let migration) = step.payload {
                migrations.insert(MigrationView(vm: step.resource.name, from: migration.from, to: migration.to, at: now, seconds: result.seconds,
                                                downtimeMilliseconds: result.migration?.downtimeMilliseconds, outcome: outcome), at: 0)
                if migrations.count > HostReport.kept { migrations.removeLast(migrations.count - HostReport.kept) }
            }
            let resource = "\(step.resource.kind.rawValue) \(step.resource.name)"
            let text: String
            switch (step.action, outcome) {
            case (.migrate, "succeeded"):
                if case .migration(let m) = step.payload {
                    text = "\(step.resource.name) migrated \(m.from) → \(m.to) in \(String(format: "%.1f", result.seconds)) s"
                } else {
                    text = "\(resource): migrate succeeded"
                }
            case (_, "succeeded"): text = "\(resource): \(step.action.rawValue) (\(String(format: "%.2f", result.seconds)) s)"
            default: text = "\(resource): \(step.action.rawValue) \(outcome)\(message.map { ": \($0)" } ?? "")"
            }
            let kind = step.action == .migrate ? "migration" : "step"
            events.insert(EventView(at: now, kind: kind, severity: outcome == "succeeded" ? "info" : "error", host: step.resource.host,
                                    vm: step.resource.kind == .domain ? step.resource.name : nil, message: text), at: 0)
            if events.count > HostReport.kept { events.removeLast(events.count - HostReport.kept) }
        }
    }

    /// The agent's report about its host, from its status and this activity.
    func report(status: AgentStatus, at now: Date) -> HostReport {
        let host = status.host
        let (read, lastSteps, migrations, events, refused) = lock.withLock { (self.read, self.lastSteps, self.migrations, self.events, self.refused) }
        let last = status.passes.first
        let agent = HostView.Agent(reportedAt: now, lastPass: last?.id, lastOutcome: last?.outcome.rawValue, lastReason: last?.reason,
                                   ready: status.conditions[.ready]?.status, stalled: status.conditions[.stalled]?.status == true,
                                   suspended: status.suspended != nil)
        var report = HostReport(host: host, reportedAt: now, commit: last?.enforcedCommit ?? status.lastApplied?.commit, agent: agent)
        if let read, let seen = read.observed.hosts[host] {
            report.vms = ClusterViewBuilder.vms(of: seen, owner: read.desired.owner,
                                                names: Set(read.desired.hosts.flatMap { $0.domains.map(\.name) } + read.desired.machines.map(\.domain.name)))
            report.used = ClusterViewBuilder.used(seen)
            report.machine = seen.facts.map { CapacityView(memoryMiB: Int($0.memory.bytes / (1024 * 1024)), vcpus: $0.cpus) }
        }
        if let plan = read?.plan {
            report.plan = plan.steps.filter { $0.resource.host == host }.map { step in
                PlanView.Step(host: step.resource.host, action: step.action.rawValue, kind: step.resource.kind.rawValue, name: step.resource.name,
                              disruption: step.disruption.rawValue, reason: step.reason, fields: step.changes.map(\.field))
            }
        }
        report.passes = status.passes.map { p in
            PassView(host: host, id: p.id, trigger: p.trigger.rawValue, startedAt: p.startedAt, seconds: p.seconds, outcome: p.outcome.rawValue,
                     reason: p.reason, message: p.message, planned: p.planned, commit: p.enforcedCommit)
        }
        report.failovers = (status.ha?.failovers ?? []).map {
            FailoverView(vm: $0.vm, from: $0.from, to: host, epoch: $0.epoch, at: $0.at, seconds: $0.seconds)
        }
        report.migrations = migrations
        report.lastSteps = lastSteps
        var timeline = events
        for pass in status.passes where pass.outcome != .converged {
            let severity = [.failed, .stalled].contains(pass.outcome) ? "error" : (pass.outcome == .applied ? "info" : "warning")
            timeline.append(EventView(at: pass.startedAt, kind: "pass", severity: severity, host: host,
                                      message: "pass \(pass.id) (\(pass.trigger.rawValue)): \(pass.outcome.rawValue)"
                                        + (pass.outcome == .applied ? ", \(pass.plannedSummary)" : "") + (pass.message.map { ": \($0)" } ?? "")))
        }
        for stop in status.ha?.stops ?? [] {
            timeline.append(EventView(at: stop.at, kind: "failover", severity: "error", host: host, vm: stop.vm,
                                      message: "HA stopped \(stop.vm) on \(host): \(stop.cause)"))
        }
        report.events = Array(timeline.sorted { $0.at > $1.at }.prefix(HostReport.kept))
        if let suspended = status.suspended {
            report.banners.append(Banner(kind: "suspended", severity: "warning", host: host,
                                         message: "the agent on \(host) is suspended \(suspended.summary): passes apply nothing"))
        }
        if status.conditions[.stalled]?.status == true, let stalled = status.conditions[.stalled] {
            let where_ = refused?.reason == stalled.reason ? refused : nil
            report.banners.append(Banner.stalled(host: host, reason: stalled.reason, message: stalled.message,
                                                 location: where_?.location, commit: where_?.commit))
        }
        if let lease = status.ha?.lease {
            report.lease = HostView.Lease(id: lease, secondsLeft: status.ha?.leaseValidSeconds)
        }
        return report
    }
}
