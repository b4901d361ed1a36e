/// The hard constraints, each failure phrased for a human (`lacks label zone=b`).
extension Placer {
    /// The first constraint of the spec (one only a commit can change) that `host` fails for the
    /// VM: the host is not in the spec, not allowed, or lacks a label, network or pool.
    func specFailure(_ vm: PlacementRequest, on name: String) -> String? {
        guard let host = hosts[name] else { return "not in the spec" }
        if let allowed = vm.rule.allowedHosts, !allowed.contains(name) { return "not in the allowed hosts" }
        for (key, value) in vm.rule.labels.sorted(by: { $0.key < $1.key }) where host.labels[key] != value {
            return "lacks label \(key)=\(value)"
        }
        if let network = vm.networks.sorted().first(where: { !host.networks.contains($0) }) { return "lacks network \(network)" }
        if let pool = vm.pools.sorted().first(where: { !host.pools.contains($0) }) { return "lacks pool \(pool)" }
        return nil
    }

    /// The first constraint that depends on what else is decided on the host: anti-affinity,
    /// then declared memory, then declared vCPUs.
    func loadFailure(_ vm: PlacementRequest, on name: String, load: HostLoad) -> String? {
        if let clash = load.vms.intersection(apart[vm.name] ?? []).min() { return "anti-affinity with \(clash)" }
        if let capacity = hosts[name]?.memory?.bytes {
            let free = capacity > load.memory ? capacity - load.memory : 0
            if vm.memory.bytes > free { return "capacity (\(ByteSize(bytes: free)) free, needs \(vm.memory))" }
        }
        if let cpus = hosts[name]?.cpus {
            let free = max(0, cpus - load.cpus)
            if vm.vcpus > free { return "cpus (\(free) free, needs \(vm.vcpus))" }
        }
        return nil
    }

    /// Why the whole group cannot go to the host now (the first failure, naming the member in a
    /// group of several), or nil when it can. A host in maintenance takes the group only when
    /// every member runs there already with policy `shutdown`.
    func groupFailure(_ group: [PlacementRequest], on name: String) -> String? {
        guard let host = hosts[name] else { return "not in the spec" }
        if unknownHosts.contains(name) { return "unreachable" }
        if deadHosts.contains(name) { return "dead" }
        if host.maintenance, !group.allSatisfy({ $0.onMaintenance == .shutdown && current[$0.name]?.host == name }) {
            return "in maintenance"
        }
        var load = ledger[name]
        for vm in group {
            if let failure = specFailure(vm, on: name) ?? loadFailure(vm, on: name, load: load) {
                return group.count > 1 ? "\(failure) (for \(vm.name))" : failure
            }
            load.add(vm)
        }
        return nil
    }

    /// The least loaded host that takes the whole group (see `Placement` for the rule), and
    /// the failures of the others, `host: why` joined by `; ` in host order.
    func bestHost(for group: [PlacementRequest], excluding excluded: String? = nil) -> (host: String?, failures: String) {
        var valid: [String] = []
        var failures: [String] = []
        for name in hostNames where name != excluded {
            if let failure = groupFailure(group, on: name) {
                failures.append("\(name): \(failure)")
            } else {
                valid.append(name)
            }
        }
        let byShare = valid.allSatisfy { (hosts[$0]?.memory?.bytes ?? 0) > 0 }
        let best = valid.min { a, b in
            let order = byShare ? compareShares(a, b) : compare(ledger[a].memory, ledger[b].memory)
            return order == 0 ? a < b : order < 0
        }
        return (best, failures.isEmpty ? "no host to choose from" : failures.joined(separator: "; "))
    }

    /// -1, 0 or 1 as host `a`'s decided share of its memory is below, equal to or above `b`'s,
    /// compared exactly (`used_a × cap_b` against `used_b × cap_a`, in full width).
    private func compareShares(_ a: String, _ b: String) -> Int {
        let (capA, capB) = (hosts[a]?.memory?.bytes ?? 1, hosts[b]?.memory?.bytes ?? 1)
        let lhs = ledger[a].memory.multipliedFullWidth(by: capB)
        let rhs = ledger[b].memory.multipliedFullWidth(by: capA)
        return lhs.high != rhs.high ? compare(lhs.high, rhs.high) : compare(lhs.low, rhs.low)
    }

    private func compare(_ a: UInt64, _ b: UInt64) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
}
