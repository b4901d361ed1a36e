/// Puts the VMs of a multi-host spec on hosts, from the spec's placement and where the VMs run
/// now: the bridge between `DesiredState.machines` and the pure `Placement` function. The
/// planner runs it first, so every plan (dry run, apply, agent, review) places the same way.
public enum ClusterPlacement {
    /// What placement decided, with the notes the plan shows.
    public struct Outcome: Sendable {
        /// The desired state with every VM on its host (`machines` moved into `hosts[].domains`).
        public var desired: DesiredState
        public var result: PlacementResult
        /// Evacuation marks to record, by VM name (`nil` clears one).
        public var evacuatedFrom: [String: String?]
        public var notes: [PlanNote]
    }

    /// Places `desired.machines` given `observed`; a single-host spec comes back unchanged.
    public static func resolve(_ desired: DesiredState, observed: ObservedState) -> Outcome {
        guard !desired.machines.isEmpty else {
            return Outcome(desired: desired, result: PlacementResult(), evacuatedFrom: [:], notes: [])
        }
        let input = input(desired, observed: observed)
        let result = Placement.place(input)
        var out = desired
        out.machines = []
        var notes: [PlanNote] = []
        var marks: [String: String?] = [:]
        let hostIndex = Dictionary(uniqueKeysWithValues: out.hosts.enumerated().map { ($1.name, $0) })
        for machine in desired.machines {
            let name = machine.domain.name
            guard let decision = result.decisions[name], let position = hostIndex[decision.host] else { continue }
            out.hosts[position].domains.append(machine.domain)
            if let seed = machine.seed { out.hosts[position].volumes.append(seed) }
            marks[name] = decision.evacuatedFrom
            if decision.reason == .shutDownForMaintenance {
                out.hosts[position].domains[out.hosts[position].domains.count - 1].power = .stopped
                notes.append(PlanNote(severity: .info, resource: ResourceRef(kind: .domain, host: decision.host, name: name),
                                      message: "domain \(name) is shut down while host \(decision.host) is in maintenance (onMaintenance: shutdown)"))
            }
        }
        for i in out.hosts.indices {
            out.hosts[i].domains.sort { $0.name < $1.name }
            out.hosts[i].volumes.sort { ($0.pool, $0.name) < ($1.pool, $1.name) }
        }
        for (name, reason) in result.unplaced.sorted(by: { $0.key < $1.key }) {
            notes.append(PlanNote(severity: .error, message: "domain \(name) fits on no host and is not placed: \(reason)"))
        }
        for (name, reason) in result.stuck.sorted(by: { $0.key < $1.key }) {
            notes.append(PlanNote(severity: .warning, message: "domain \(name) cannot move: \(reason)"))
        }
        for (name, reason) in result.unknown.sorted(by: { $0.key < $1.key }) {
            notes.append(PlanNote(severity: .warning, message: "domain \(name) is left alone: \(reason)"))
        }
        for warning in Placement.survivability(input, decisions: result.decisions) {
            notes.append(PlanNote(severity: .warning, message: "N+1: \(warning)"))
        }
        notes += HANotes.failover(desired)
        notes += HANotes.ownership(desired, observed: observed)
        return Outcome(desired: out, result: result, evacuatedFrom: marks, notes: notes)
    }

    /// The placement function's input: hosts, requests and where the managed VMs run now.
    public static func input(_ desired: DesiredState, observed: ObservedState) -> PlacementInput {
        let hosts = desired.hosts.map { host in
            PlacementHost(name: host.name, labels: host.labels, maintenance: host.maintenance, memory: host.memoryCapacity,
                          cpus: host.cpuCapacity, networks: Set(host.networks.map(\.name)), pools: Set(host.pools.map(\.name)))
        }
        let requests = desired.machines.map(request)
        let wanted = Set(desired.machines.map(\.domain.name))
        var current: [String: CurrentPlacement] = [:]
        for hostName in observed.hosts.keys.sorted() {
            guard let host = observed.hosts[hostName] else { continue }
            for (name, domain) in host.domains where wanted.contains(name) {
                // Only this spec source's copies place a VM (another owner's of the same name does not).
                guard let marker = domain.marker, domain.claim(by: desired.owner).isOurs else { continue }
                // Defined on two hosts (an interrupted move): the running copy is where it is.
                if let seen = current[name], let other = observed.hosts[seen.host]?.domains[name], other.state.isActive || !domain.state.isActive {
                    continue
                }
                current[name] = CurrentPlacement(host: hostName, evacuatedFrom: marker.evacuatedFrom)
            }
        }
        var unknown = Set(observed.unreachable.keys)
        for host in desired.hosts where observed.hosts[host.name] == nil { unknown.insert(host.name) }
        // A dead host is not unknown: its VMs stay where they were, and new VMs may be placed.
        let dead = observed.dead.filter { observed.hosts[$0.key] == nil }
        unknown.subtract(dead.keys)
        return PlacementInput(hosts: hosts, requests: requests, current: current, unknownHosts: unknown, deadHosts: dead)
    }

    /// A VM's request: what it consumes while it runs and which networks and pools it needs.
    static func request(_ machine: ClusterMachine) -> PlacementRequest {
        let vm = machine.domain
        let running = vm.power != .stopped   // a paused VM holds its memory and vCPUs
        var pools = Set(vm.disks.compactMap { disk -> String? in
            if case .volume(let pool, _) = disk.source { return pool }
            return nil
        })
        if let seed = machine.seed { pools.insert(seed.pool) }
        let networks = Set(vm.interfaces.compactMap { nic -> String? in
            if case .network(let name) = nic.source { return name }
            return nil
        })
        return PlacementRequest(name: vm.name, rule: machine.placement.rule,
                                memory: running ? (vm.maxMemory ?? vm.memory) : ByteSize(bytes: 0), vcpus: running ? (vm.maxVcpus ?? vm.vcpus) : 0,
                                networks: networks, pools: pools, onMaintenance: machine.placement.onMaintenance, ha: machine.placement.ha)
    }
}

extension DesiredState {
    /// Every VM on a host: as placement puts them given `observed`, or, without it, in an
    /// empty cluster where every host is reachable (what a first apply would do).
    public func placed(observed: ObservedState? = nil) -> DesiredState {
        guard !machines.isEmpty else { return self }
        return ClusterPlacement.resolve(self, observed: observed ?? emptyCluster).desired
    }

    /// Every host reachable and empty: the cluster before a first apply.
    public var emptyCluster: ObservedState {
        var state = ObservedState()
        for host in hosts { state.hosts[host.name] = ObservedHost(name: host.name) }
        return state
    }
}
