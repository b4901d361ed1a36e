import VirtsyncCore
import VirtsyncEngine

/// The agent's view of the other hosts of a multi-host spec. It reads them only when placement
/// needs them, acts only on its own host, and treats a peer it cannot read as unknown (its VMs
/// are then left alone, never re-created here).
enum PeerView {
    /// Whether this pass needs the peers: VMs placed by constraints, a host in maintenance, a
    /// VM here that left another host for maintenance, a VM placed here that is not here (it
    /// may run on a peer: a move, not a create), or a VM here that the spec pins to another host
    /// (it moves there: a changed pin, or an HA failback).
    static func needed(_ desired: DesiredState, observed: ObservedState, host: String) -> Bool {
        guard desired.hosts.count > 1, !desired.machines.isEmpty else { return false }
        if desired.hosts.contains(where: \.maintenance) { return true }
        if desired.machines.contains(where: { $0.placement.rule.pinned == nil }) { return true }
        let here = observed.hosts[host]?.domains ?? [:]
        if here.values.contains(where: { $0.marker?.evacuatedFrom != nil }) { return true }
        return desired.machines.contains { machine in
            guard let pinned = machine.placement.rule.pinned else { return false }
            return pinned == host ? here[machine.domain.name] == nil : here[machine.domain.name] != nil
        }
    }

    /// The steps this host's agent carries out: those on its own host (migrations away from it
    /// included). The peers' agents do theirs.
    static func ownSteps(_ plan: Plan, host: String) -> Plan {
        var out = plan
        out.steps = plan.steps.filter { $0.resource.host == host }
        return out
    }
}
