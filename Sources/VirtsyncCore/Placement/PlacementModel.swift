/// What a VM asks of the host it runs on. A VM either names its host (`pinned`) or gives
/// constraints; both consume the host's declared capacity.
public struct PlacementRule: Hashable, Codable, Sendable {
    /// The host the spec names (`host:`); the VM runs there unless the host is in maintenance.
    public var pinned: String?
    /// Hosts the VM may run on (`placement.hosts`); `nil` allows every host.
    public var allowedHosts: [String]?
    /// Labels a host must carry, all of them, with these values (`placement.labels`).
    public var labels: [String: String]
    /// VMs this one must share a host with (`placement.affinity`).
    public var affinity: [String]
    /// VMs this one must never share a host with (`placement.antiAffinity`).
    public var antiAffinity: [String]

    public init(pinned: String? = nil, allowedHosts: [String]? = nil, labels: [String: String] = [:],
                affinity: [String] = [], antiAffinity: [String] = []) {
        self.pinned = pinned
        self.allowedHosts = allowedHosts
        self.labels = labels
        self.affinity = affinity
        self.antiAffinity = antiAffinity
    }
}

/// What happens to a VM when its host goes into maintenance.
public enum MaintenancePolicy: String, Codable, Sendable, CaseIterable {
    /// Live-migrate it to another host (the default); it returns when the mark is removed.
    case migrate
    /// Shut it down where it is; it starts again when the mark is removed.
    case shutdown
}

/// A host as placement sees it.
public struct PlacementHost: Hashable, Codable, Sendable {
    public var name: String
    public var labels: [String: String]
    /// Marked for maintenance in the spec: drained, and nothing new is placed on it.
    public var maintenance: Bool
    /// Declared capacity; `nil` means not limited (not checked).
    public var memory: ByteSize?
    public var cpus: Int?
    /// Networks and pools the spec declares on the host (a VM needs all of its own).
    public var networks: Set<String>
    public var pools: Set<String>

    public init(name: String, labels: [String: String] = [:], maintenance: Bool = false, memory: ByteSize? = nil,
                cpus: Int? = nil, networks: Set<String> = [], pools: Set<String> = []) {
        self.name = name
        self.labels = labels
        self.maintenance = maintenance
        self.memory = memory
        self.cpus = cpus
        self.networks = networks
        self.pools = pools
    }
}

/// A VM to place.
public struct PlacementRequest: Hashable, Codable, Sendable {
    public var name: String
    public var rule: PlacementRule
    /// Memory and vCPUs it consumes on its host (the maximum it can grow to).
    public var memory: ByteSize
    public var vcpus: Int
    /// Networks and pools it uses (hard constraints: the host must declare them).
    public var networks: Set<String>
    public var pools: Set<String>
    public var onMaintenance: MaintenancePolicy
    /// Must survive the loss of a host (counted by the N+1 check).
    public var ha: Bool

    public init(name: String, rule: PlacementRule, memory: ByteSize, vcpus: Int, networks: Set<String> = [],
                pools: Set<String> = [], onMaintenance: MaintenancePolicy = .migrate, ha: Bool = false) {
        self.name = name
        self.rule = rule
        self.memory = memory
        self.vcpus = vcpus
        self.networks = networks
        self.pools = pools
        self.onMaintenance = onMaintenance
        self.ha = ha
    }
}

/// Where a VM is now, from the observed state of the reachable hosts.
public struct CurrentPlacement: Hashable, Codable, Sendable {
    /// The host it is defined on (virtsync's marker), among the reachable hosts.
    public var host: String
    /// The host it was moved away from for maintenance (recorded in its marker), if any.
    public var evacuatedFrom: String?

    public init(host: String, evacuatedFrom: String? = nil) {
        self.host = host
        self.evacuatedFrom = evacuatedFrom
    }
}

/// Everything placement decides from. Equal inputs give an equal answer on every host.
public struct PlacementInput: Hashable, Codable, Sendable {
    /// The spec's hosts, in any order (placement sorts).
    public var hosts: [PlacementHost]
    public var requests: [PlacementRequest]
    /// Where VMs are now, by VM name (only VMs found on reachable hosts).
    public var current: [String: CurrentPlacement]
    /// Hosts that could not be read: their VMs' whereabouts are unknown.
    public var unknownHosts: Set<String>
    /// Hosts known dead (their HA lease expired, so they fenced or were reset), with the VMs each
    /// held: those stay where they were (down, unless HA restarts them), nothing is placed on a
    /// dead host, and, unlike an unknown host, a dead one does not block new VMs.
    public var deadHosts: [String: Set<String>]

    public init(hosts: [PlacementHost], requests: [PlacementRequest], current: [String: CurrentPlacement] = [:],
                unknownHosts: Set<String> = [], deadHosts: [String: Set<String>] = [:]) {
        self.hosts = hosts
        self.requests = requests
        self.current = current
        self.unknownHosts = unknownHosts
        self.deadHosts = deadHosts
    }
}

/// Why a VM is placed where it is (shown in the plan).
public enum PlacementReason: String, Codable, Sendable {
    /// Pinned by `host:`.
    case pinned
    /// Stays where it runs (stickiness): the host still satisfies every hard constraint; or,
    /// when the VM is also listed in `PlacementResult.stuck`, it ought to leave but no host can
    /// take it, so it is left where it is.
    case stays
    /// Back on the host it left for maintenance.
    case returns
    /// Moved off a host in maintenance.
    case evacuated
    /// Moved because its current host no longer satisfies a hard constraint.
    case constraint
    /// Not placed before: chosen by the constraints and the least-loaded rule.
    case new
    /// Kept on its host in maintenance, shut down (policy `shutdown`).
    case shutDownForMaintenance
}

/// One VM's placement.
public struct PlacementDecision: Hashable, Codable, Sendable {
    public var host: String
    public var reason: PlacementReason
    /// The host to record as "moved away for maintenance" (set when `reason == .evacuated`, or
    /// carried on while the VM is still away).
    public var evacuatedFrom: String?

    public init(host: String, reason: PlacementReason, evacuatedFrom: String? = nil) {
        self.host = host
        self.reason = reason
        self.evacuatedFrom = evacuatedFrom
    }
}

/// What placement decided.
///
/// Every request lands in exactly one of `decisions`, `unplaced` and `unknown`; `stuck` is a
/// subset of `decisions` (a warning on top of a decision, not a fourth outcome).
public struct PlacementResult: Hashable, Codable, Sendable {
    /// VM name to decision.
    public var decisions: [String: PlacementDecision]
    /// VMs that run nowhere yet and fit nowhere, with, per host (sorted), the first constraint
    /// that failed, e.g. `host-a: in maintenance; host-b: lacks label zone=b; host-c: capacity
    /// (512MiB free, needs 1GiB)`.
    public var unplaced: [String: String]
    /// VMs whose current host is unknown (it may run on an unreachable host): left alone.
    public var unknown: [String: String]
    /// VMs that ought to leave their host (maintenance with policy `migrate`, a constraint the
    /// host no longer meets, an affinity partner elsewhere) but fit on no other host: they stay
    /// where they run (a `.stays` or `.shutDownForMaintenance` decision on their current host is
    /// in `decisions`, and keeps consuming its capacity); the text says why, in the `unplaced` form.
    public var stuck: [String: String]

    public init(decisions: [String: PlacementDecision] = [:], unplaced: [String: String] = [:], unknown: [String: String] = [:],
                stuck: [String: String] = [:]) {
        self.decisions = decisions
        self.unplaced = unplaced
        self.unknown = unknown
        self.stuck = stuck
    }
}
