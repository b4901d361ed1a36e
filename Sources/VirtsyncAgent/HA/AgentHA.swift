import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine

/// HA on an agent: the `HARunner` (the core's state machine over etcd, libvirt and the watchdog)
/// and what the reconcile pass must do differently while it runs.
///
/// - The power of an HA VM whose spec says `running` is HA's: the pass never starts, stops or
///   restarts it (HA starts it where its owner record says, with the epoch in its marker). Its
///   definition stays the pass's: created where the spec's placement puts it, updated in place,
///   autostart off.
/// - A live migration of a running HA VM (maintenance, placement, failback) runs only through
///   HA (`migrate`), which hands the owner record over with it, and only when HA allows it: this
///   host owns the VM, the target holds a lease, and a failback (a pinned VM going home) waits
///   until its home has held its lease for `failbackSettle`, unless failback is off (for the
///   cluster in the agent configuration, or per VM in the spec): then the VM stays.
/// - Every pass hands the runner the spec's HA view (hosts, HA VMs, placement) and the
///   definitions a takeover needs on a host that never had the VM.
package final class AgentHA: Sendable {
    package let runner: HARunner
    package let definitions: HADefinitions
    package let timings: HATimings
    private let state: AgentState
    private let logger = Logger(label: "virtsync.ha")
    private let now: @Sendable () -> Duration
    /// What this host last published as held (nil: nothing yet).
    private let published = Locked<Set<String>?>(nil)
    /// Failback for the whole cluster (agent configuration `ha.failback`).
    private let failback: Bool
    /// The moves held back at the last pass, by VM (to log a reason once, not every pass).
    private let held = Locked<[String: String]>([:])

    package init(runner: HARunner, definitions: HADefinitions, timings: HATimings, state: AgentState, failback: Bool = true,
                 now: @escaping @Sendable () -> Duration = BootClock.now) {
        self.runner = runner
        self.definitions = definitions
        self.timings = timings
        self.state = state
        self.failback = failback
        self.now = now
        state.update { $0.ha = $0.ha ?? HAStatus() }
        state.metrics.haStarted()
    }

    /// The desired state a pass plans with: every HA VM without autostart (HA starts it; libvirt
    /// must never start a stale copy on a host that boots).
    package func prepare(_ desired: DesiredState) -> DesiredState {
        guard desired.machines.contains(where: \.placement.ha) else { return desired }
        var out = desired
        for i in out.machines.indices where out.machines[i].placement.ha {
            out.machines[i].domain.autostart = false
        }
        return out
    }

    /// Hands the runner this pass's view of the spec, publishes what this host holds, and drops
    /// the steps that are HA's to take.
    package func planned(_ plan: Plan, desired: DesiredState, observed: ObservedState) async -> Plan {
        definitions.update(from: desired)
        await runner.update(spec: HASpec.from(desired, observed: observed))
        let plan = await publishHeld(plan, desired: desired, observed: observed)
        let powered = Set(desired.machines.filter { $0.placement.ha && $0.domain.power == .running }.map(\.domain.name))
        guard !powered.isEmpty else { return plan }
        let blocked = await heldMoves(plan, powered: powered, desired: desired, observed: observed)
        var out = plan
        out.steps = plan.steps.filter { step in
            guard step.resource.kind == .domain, powered.contains(step.resource.name) else { return true }
            switch step.action {
            case .start, .stop, .restart, .suspend, .resume:
                logger.debug("left to HA", metadata: ["action": "\(step.action.rawValue)", "vm": "\(step.resource.name)", "reason": "\(step.reason)"])
                return false
            case .migrate:
                return blocked[step.resource.name] == nil
            default:
                return true
            }
        }
        return out
    }

    /// The live migrations of running HA VMs in `plan` that HA holds back now, with why; logged
    /// when the reason changes, and kept in the status.
    private func heldMoves(_ plan: Plan, powered: Set<String>, desired: DesiredState, observed: ObservedState) async -> [String: String] {
        let host = runner.host
        var blocked: [String: String] = [:]
        for step in plan.steps where step.action == .migrate && step.resource.kind == .domain && powered.contains(step.resource.name) {
            let name = step.resource.name
            guard case .migration(let migration) = step.payload, migration.live, migration.from == host else {
                blocked[name] = "HA starts it where its owner record says; it does not run here to be migrated"
                continue
            }
            let machine = desired.machines.first { $0.domain.name == name }
            let home = machine?.placement.rule.pinned
            let returning = observed.hosts[host]?.domains[name]?.marker?.evacuatedFrom == migration.to
            let isFailback = home == migration.to && !returning
            if isFailback && !failback {
                blocked[name] = "failback is off for the cluster (ha.failback); it stays on \(host)"
            } else if isFailback && machine?.placement.failback == false {
                blocked[name] = "failback is off for this VM (failback: false); it stays on \(host)"
            } else if let why = await runner.moveBlocked(name, to: migration.to, failback: isFailback) {
                blocked[name] = why
            }
        }
        let before = held.withLock { previous -> [String: String] in
            defer { previous = blocked }
            return previous
        }
        for (name, why) in blocked.sorted(by: { $0.key < $1.key }) where before[name].map(Self.gist) != Self.gist(why) {
            logger.notice("HA holds a move back", metadata: ["vm": "\(name)", "reason": "\(why)"])
        }
        if before != blocked { state.update { $0.ha?.heldMoves = blocked.isEmpty ? nil : blocked } }
        return blocked
    }

    /// A reason without its running figures ("... (12s so far)"), to log each reason once.
    private static func gist(_ why: String) -> String {
        why.range(of: " (").map { String(why[..<$0.lowerBound]) } ?? why
    }

    /// Carries out a migration step of the pass: a live migration of an HA VM goes through HA
    /// (its owner record moves with it); anything else is `perform` as it is.
    package func migrate(_ step: PlanStep, _ migration: Migration,
                         perform: @escaping @Sendable () async throws -> MigrationReport) async throws -> MigrationReport {
        guard migration.live, definitions[step.resource.name] != nil else { return try await perform() }
        return try await runner.move(step.resource.name, to: migration.to, migrate: perform)
    }

    /// The dead hosts and what they held, for the pass's placement.
    package func deadHosts() async -> [String: Set<String>] {
        await runner.deadHosts()
    }

    /// Publishes the VMs this host holds, including those the plan is about to create here,
    /// before any of them is created: while this host is dead the others place only VMs in no
    /// host's record. When that fails, the plan creates no domain this pass.
    private func publishHeld(_ plan: Plan, desired: DesiredState, observed: ObservedState) async -> Plan {
        let host = runner.host
        var held = Set(observed.hosts[host]?.domains.values.filter { $0.claim(by: desired.owner).isOurs }.map(\.model.name) ?? [])
        held.formUnion(plan.steps.filter { $0.resource.kind == .domain && $0.resource.host == host && $0.action == .create }.map(\.resource.name))
        if published.withLock({ $0 }) == held { return plan }
        do {
            try await runner.publish(vms: held)
            published.withLock { $0 = held }
            return plan
        } catch {
            var out = plan
            let new = Set(plan.steps.filter { $0.resource.kind == .domain && $0.action == .create }.map(\.resource.name))
            out.steps.removeAll { $0.resource.kind == .domain && new.contains($0.resource.name) }
            if out.steps.count != plan.steps.count {
                logger.warning("cannot record this host's VMs in etcd; no VM is created this pass", metadata: ["error": "\(error)"])
            }
            return out
        }
    }

    /// Metrics and status for what the runner reports.
    package func observe(_ observation: HAObservation) {
        switch observation {
        case .decision:
            break
        case .stopping(let vm, let cause):
            state.metrics.haFenced(cause: cause.rawValue)
            state.update { $0.ha?.record(HAStatus.Stop(vm: vm, cause: cause.rawValue, at: Date())) }
        case .recovery(let recovery):
            let seconds = Self.seconds(recovery.runningAt - recovery.leaseGoneAt)
            state.metrics.haRecovered(seconds: seconds)
            state.update {
                $0.ha?.record(HAStatus.Failover(vm: recovery.vm, from: recovery.from, epoch: recovery.epoch, at: Date(), seconds: seconds))
            }
        }
        try? state.persist()
    }

    /// Refreshes the lease, members and owners in the status and metrics from the runner's
    /// controller; the agent calls it every second.
    package func refresh() async {
        let controller = await runner.state
        let at = now()
        var lease: Int64?
        var valid: Double?
        var age: Double?
        if case .held(let id, let validUntil) = controller.lease {
            lease = id
            valid = max(0, Self.seconds(validUntil - at))
            age = Self.seconds(at - (validUntil - (timings.leaseTTL - timings.margin)))
        }
        let owned = controller.owners.filter { $0.value.host == controller.host }.mapValues(\.epoch)
        state.metrics.haLease(valid: (valid ?? 0) > 0, ageSeconds: age, owned: owned.count)
        state.update {
            var ha = $0.ha ?? HAStatus()
            ha.lease = lease
            ha.leaseValidSeconds = valid
            ha.members = controller.members.keys.sorted()
            ha.owned = owned
            ha.deadHosts = controller.deadHosts(at: at).sorted()
            $0.ha = ha
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
