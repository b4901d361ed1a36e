/// Affinity groups: VMs that must share a host, affinity taken as symmetric and transitive.
enum AffinityGroups {
    /// The groups among `vms` (references to VMs not in `vms` are ignored): each sorted by name,
    /// the groups ordered by their first member.
    static func groups(of vms: [PlacementRequest]) -> [[PlacementRequest]] {
        let sorted = vms.sorted { $0.name < $1.name }
        var parent = Dictionary(sorted.map { ($0.name, $0.name) }, uniquingKeysWith: { a, _ in a })
        func root(_ name: String) -> String {
            var node = name
            while let up = parent[node], up != node { node = up }
            return node
        }
        for vm in sorted {
            for other in vm.rule.affinity where parent[other] != nil {
                let (a, b) = (root(vm.name), root(other))
                // The smaller name becomes the root, so the result does not depend on the order
                // the links are seen in.
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var order: [String] = []
        var members: [String: [PlacementRequest]] = [:]
        for vm in sorted {
            let r = root(vm.name)
            if members[r] == nil { order.append(r) }
            members[r, default: []].append(vm)
        }
        return order.map { members[$0] ?? [] }
    }

    /// The memory a group needs in total (saturating).
    static func memory(of group: [PlacementRequest]) -> UInt64 {
        group.reduce(0) { total, vm in
            let (sum, overflow) = total.addingReportingOverflow(vm.memory.bytes)
            return overflow ? .max : sum
        }
    }

    /// Anti-affinity as a symmetric relation: for each VM, the VMs it must not share a host with.
    static func antiAffinity(of vms: [PlacementRequest]) -> [String: Set<String>] {
        var apart: [String: Set<String>] = [:]
        for vm in vms {
            for other in vm.rule.antiAffinity where other != vm.name {
                apart[vm.name, default: []].insert(other)
                apart[other, default: []].insert(vm.name)
            }
        }
        return apart
    }
}
