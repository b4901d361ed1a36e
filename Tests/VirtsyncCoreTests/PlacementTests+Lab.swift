import VirtsyncCore

/// Small clusters for the placement tests: hosts of 8GiB unless told, VMs of 1GiB and 1 vCPU.
enum PlacementLab {
    static func host(_ name: String, memory: ByteSize? = .gib(8), cpus: Int? = nil, labels: [String: String] = [:],
                     maintenance: Bool = false, networks: Set<String> = [], pools: Set<String> = []) -> PlacementHost {
        PlacementHost(name: name, labels: labels, maintenance: maintenance, memory: memory, cpus: cpus,
                      networks: networks, pools: pools)
    }

    static func vm(_ name: String, memory: ByteSize = .gib(1), vcpus: Int = 1, pinned: String? = nil,
                   hosts: [String]? = nil, labels: [String: String] = [:], affinity: [String] = [],
                   antiAffinity: [String] = [], networks: Set<String> = [], pools: Set<String> = [],
                   onMaintenance: MaintenancePolicy = .migrate, ha: Bool = false) -> PlacementRequest {
        PlacementRequest(name: name,
                         rule: PlacementRule(pinned: pinned, allowedHosts: hosts, labels: labels, affinity: affinity,
                                             antiAffinity: antiAffinity),
                         memory: memory, vcpus: vcpus, networks: networks, pools: pools, onMaintenance: onMaintenance, ha: ha)
    }

    /// Where the VMs run after the cluster applied `result`, as the next pass observes it.
    static func observed(after result: PlacementResult) -> [String: CurrentPlacement] {
        result.decisions.mapValues { CurrentPlacement(host: $0.host, evacuatedFrom: $0.evacuatedFrom) }
    }

    /// Places, then places again with what the first pass decided as the current state, like
    /// the cluster does once the plan is applied.
    static func converge(_ input: PlacementInput) -> PlacementResult {
        var next = input
        next.current = observed(after: Placement.place(input))
        return Placement.place(next)
    }

    /// `host` and `reason` of each decision, for compact expectations.
    static func summary(_ result: PlacementResult) -> [String: String] {
        result.decisions.mapValues { "\($0.host) \($0.reason.rawValue)" + ($0.evacuatedFrom.map { " from \($0)" } ?? "") }
    }

    /// The same input with its arrays shuffled by a seeded generator.
    static func shuffled(_ input: PlacementInput, seed: UInt64) -> PlacementInput {
        var rng = SplitMix64(seed: seed)
        var out = input
        out.hosts.shuffle(using: &rng)
        out.requests.shuffle(using: &rng)
        for i in out.requests.indices {
            out.requests[i].rule.affinity.shuffle(using: &rng)
            out.requests[i].rule.antiAffinity.shuffle(using: &rng)
            out.requests[i].rule.allowedHosts?.shuffle(using: &rng)
        }
        return out
    }
}

/// A deterministic generator (SplitMix64), so shuffles are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
