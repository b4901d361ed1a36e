/// What is decided on one host so far: memory, vCPUs and the VMs themselves.
struct HostLoad: Sendable {
    var memory: UInt64 = 0
    var cpus = 0
    var vms: Set<String> = []

    /// Counts `vm` here (saturating: a pinned VM may overflow the declared capacity).
    mutating func add(_ vm: PlacementRequest) {
        let (sum, overflow) = memory.addingReportingOverflow(vm.memory.bytes)
        memory = overflow ? .max : sum
        cpus = cpus.addingReportingOverflow(vm.vcpus).overflow ? .max : cpus + vm.vcpus
        vms.insert(vm.name)
    }
}

/// The load placement has decided on every host, filled as VMs are decided.
struct Ledger: Sendable {
    private var loads: [String: HostLoad] = [:]

    init() {}

    /// The load of existing decisions (those whose VM is requested).
    init(_ decisions: [String: PlacementDecision], requests: [String: PlacementRequest]) {
        for name in decisions.keys.sorted() {
            guard let decision = decisions[name], let vm = requests[name] else { continue }
            add(vm, on: decision.host)
        }
    }

    /// The load on `host` (empty when nothing is decided there).
    subscript(host: String) -> HostLoad { loads[host] ?? HostLoad() }

    /// Counts `vm` on `host`.
    mutating func add(_ vm: PlacementRequest, on host: String) {
        loads[host, default: HostLoad()].add(vm)
    }
}
