/// Where each VM of the cluster runs: a pure, deterministic function of the spec's hosts and VMs
/// and of where the VMs run now, so every agent computes the same answer on its own.
///
/// **Determinism.** Hosts and VMs are handled in name order whatever the order of the input
/// arrays; every tie is broken by host name.
///
/// **Hard constraints** a host must meet for a VM: it is in the spec and reachable; it is not in
/// maintenance (unless the VM already runs there with policy `shutdown`); it is in the VM's
/// allowed hosts (when given); it carries every required label with the same value; it declares
/// every network and pool the VM uses; no VM the VM is anti-affine with (in either direction) is
/// decided there; the memory and vCPUs decided there plus the VM's fit the declared capacity
/// (when declared). Affinity (either direction, transitive) makes groups that are placed as one.
///
/// **Decision order**, so that running VMs win over newcomers: pinned groups, then groups that
/// stay on a current host, then groups that would return to the host they were evacuated from
/// (after the stays, so a return never evicts a VM that could stay), then groups that must move,
/// then new groups; by name (a group's name is its first member's) within each step.
///
/// **Least loaded** host: the lowest share of declared memory decided there (decided / capacity,
/// before the VM); when one of the candidates declares no memory capacity, all candidates are
/// compared by decided memory in bytes instead; ties go to the first host by name.
public enum Placement {
    /// Places every requested VM; see the type's documentation for the rules.
    ///
    /// - A VM pinned to a host (`rule.pinned`) goes there even when it breaks capacity or labels
    ///   (validation reports those), unless the host is in maintenance: with policy `migrate` it
    ///   is placed elsewhere (`.evacuated`, `evacuatedFrom` = the pinned host) until the mark is
    ///   removed; with `shutdown` it stays (`.shutDownForMaintenance`).
    /// - A running VM stays on its host while the host meets its constraints (`.stays`); one
    ///   evacuated for maintenance returns when the host it left is usable again (`.returns`),
    ///   keeps its mark while that host is in maintenance, unreachable or full, and forgets it
    ///   when the spec no longer allows that host. One on a host in maintenance is evacuated
    ///   (`.evacuated`) or, with policy `shutdown`, stays (`.shutDownForMaintenance`); one whose
    ///   host no longer meets a constraint moves (`.constraint`).
    /// - While some host is unreachable, a VM not found on the reachable hosts may run there:
    ///   it goes to `unknown` and is left alone, as is a VM pinned to an unreachable host.
    /// - A VM that fits nowhere goes to `unplaced`, or to `stuck` (staying where it runs) when
    ///   it runs somewhere already.
    public static func place(_ input: PlacementInput) -> PlacementResult {
        var placer = Placer(input)
        placer.run()
        return placer.result
    }

    /// The N+1 check: one warning per host (in name order) whose loss the cluster cannot absorb.
    ///
    /// For each host, the HA VMs decided there (except those shut down for maintenance, which
    /// run nowhere) are placed again on the other hosts, by the hard constraints without their
    /// pin (an HA VM restarts elsewhere when its pinned host dies), with every other decision
    /// still consuming capacity. Hosts in maintenance or unreachable do not count as survivors.
    /// Affinity groups are re-placed together, the largest (by memory) first, which makes the
    /// greedy check less pessimistic; a warning names the VMs left without a host and, per
    /// host, the first constraint that failed. Empty when any single host can be lost.
    public static func survivability(_ input: PlacementInput, decisions: [String: PlacementDecision]) -> [String] {
        let base = Placer(PlacementInput(hosts: input.hosts, requests: input.requests, unknownHosts: input.unknownHosts,
                                         deadHosts: input.deadHosts))
        var warnings: [String] = []
        for lost in base.hostNames {
            let victims = base.sortedRequests.filter {
                guard $0.ha, let decision = decisions[$0.name] else { return false }
                return decision.host == lost && decision.reason != .shutDownForMaintenance
            }
            guard !victims.isEmpty else { continue }
            var survivors = base
            survivors.ledger = Ledger(decisions.filter { $0.value.host != lost }, requests: base.requests)
            let groups = AffinityGroups.groups(of: victims).sorted {
                let (a, b) = (AffinityGroups.memory(of: $0), AffinityGroups.memory(of: $1))
                return a != b ? a > b : $0[0].name < $1[0].name
            }
            var stranded: [(names: String, reason: String)] = []
            for group in groups {
                let best = survivors.bestHost(for: group, excluding: lost)
                if let host = best.host {
                    for vm in group { survivors.ledger.add(vm, on: host) }
                } else {
                    stranded.append((group.map(\.name).joined(separator: ", "), best.failures))
                }
            }
            guard !stranded.isEmpty else { continue }
            let names = stranded.map(\.names).joined(separator: ", ")
            let why = Set(stranded.map(\.reason)).count == 1
                ? stranded[0].reason
                : stranded.map { "\($0.names) (\($0.reason))" }.joined(separator: ", ")
            warnings.append("losing \(lost) would leave \(names) without a host: \(why)")
        }
        return warnings
    }
}
