/// One run of placement: the input indexed by name, the load decided so far and the result.
struct Placer: Sendable {
    let hosts: [String: PlacementHost]
    /// Every host of the spec, sorted.
    let hostNames: [String]
    let requests: [String: PlacementRequest]
    /// Every request, sorted by name (one per name).
    let sortedRequests: [PlacementRequest]
    let current: [String: CurrentPlacement]
    let unknownHosts: Set<String>
    /// Dead hosts, and the dead host of each VM one held.
    let deadHosts: Set<String>
    let onDeadHost: [String: String]
    let apart: [String: Set<String>]
    var ledger = Ledger()
    var result = PlacementResult()

    /// Indexes the input. Names are unique after validation; with duplicates, one is kept.
    init(_ input: PlacementInput) {
        hosts = Dictionary(input.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        hostNames = hosts.keys.sorted()
        let requests = Dictionary(input.requests.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.requests = requests
        sortedRequests = requests.keys.sorted().compactMap { requests[$0] }
        current = input.current
        unknownHosts = input.unknownHosts
        deadHosts = Set(input.deadHosts.keys)
        var onDeadHost: [String: String] = [:]
        for (host, names) in input.deadHosts.sorted(by: { $0.key < $1.key }) {
            for name in names where onDeadHost[name] == nil { onDeadHost[name] = host }
        }
        self.onDeadHost = onDeadHost
        apart = AffinityGroups.antiAffinity(of: sortedRequests)
    }

    /// Decides every request, in the documented order.
    mutating func run() {
        var decidable: [PlacementRequest] = []
        for vm in sortedRequests {
            if let why = whyUnknown(vm) {
                result.unknown[vm.name] = why
            } else if let pin = vm.rule.pinned, hosts[pin] == nil {
                result.unplaced[vm.name] = "pinned to \(pin), which is not in the spec"
            } else {
                decidable.append(vm)
            }
        }
        var pinned: [[PlacementRequest]] = [], staying: [[PlacementRequest]] = [], returning: [[PlacementRequest]] = []
        var new: [[PlacementRequest]] = []
        for group in AffinityGroups.groups(of: decidable) {
            if group.contains(where: holdsPin) {
                pinned.append(group)
            } else if !group.contains(where: { current[$0.name] != nil }) {
                new.append(group)
            } else if group.contains(where: { returnHost(of: $0) != nil }) {
                returning.append(group)
            } else {
                staying.append(group)
            }
        }
        for group in pinned { placePinned(group) }
        var moving: [[PlacementRequest]] = []
        for group in staying where !placeOnFirstValid(group, of: currentHosts(of: group)) {
            moving.append(group)
        }
        for group in returning {
            let returns = group.compactMap(returnHost(of:))
            if !placeOnFirstValid(group, of: returns + currentHosts(of: group)) { moving.append(group) }
        }
        for group in moving.sorted(by: { $0[0].name < $1[0].name }) { placeOnBest(group) }
        for group in new { placeOnBest(group) }
    }

    /// Why the VM is left alone: pinned to an unreachable host, or not found on the reachable
    /// hosts while some host is unreachable.
    func whyUnknown(_ vm: PlacementRequest) -> String? {
        if let pin = vm.rule.pinned, unknownHosts.contains(pin) {
            return "pinned to \(pin), which is unreachable"
        }
        if current[vm.name] == nil, let dead = onDeadHost[vm.name] ?? vm.rule.pinned.flatMap({ deadHosts.contains($0) ? $0 : nil }) {
            return vm.ha ? "its host \(dead) is dead (its HA lease expired): HA restarts it elsewhere"
                         : "its host \(dead) is dead (its HA lease expired): it stays down until \(dead) is back (it is not HA)"
        }
        let unreachable = unknownHosts.sorted().joined(separator: ", ")
        guard let here = current[vm.name] else {
            return unknownHosts.isEmpty ? nil : "not found on the reachable hosts; it may run on \(unreachable) (unreachable)"
        }
        return unknownHosts.contains(here.host) ? "its host \(here.host) is unreachable" : nil
    }

    /// Whether the VM goes to its pinned host: pinned, and the host is not in maintenance, or
    /// is but the VM's policy is to be shut down there.
    func holdsPin(_ vm: PlacementRequest) -> Bool {
        guard let pin = vm.rule.pinned, let host = hosts[pin] else { return false }
        return !host.maintenance || vm.onMaintenance == .shutdown
    }

    /// The host an unpinned VM left for maintenance, while the spec still allows it there.
    func evacuationMark(of vm: PlacementRequest) -> String? {
        guard vm.rule.pinned == nil, let here = current[vm.name], let left = here.evacuatedFrom,
              left != here.host, specFailure(vm, on: left) == nil else { return nil }
        return left
    }

    /// The host the VM should go back to now: its evacuation mark, out of maintenance and reachable.
    func returnHost(of vm: PlacementRequest) -> String? {
        guard let left = evacuationMark(of: vm), let host = hosts[left], !host.maintenance,
              !unknownHosts.contains(left) else { return nil }
        return left
    }

    /// The members' current hosts, in member order, without repeats.
    func currentHosts(of group: [PlacementRequest]) -> [String] {
        var seen: Set<String> = []
        return group.compactMap { current[$0.name]?.host }.filter { seen.insert($0).inserted }
    }

    /// Pinned members go to their pins unchecked; the others must join the first pinned one.
    mutating func placePinned(_ group: [PlacementRequest]) {
        var anchor: (vm: String, host: String)?
        for vm in group where holdsPin(vm) {
            guard let pin = vm.rule.pinned else { continue }
            anchor = anchor ?? (vm.name, pin)
            decide(vm, on: pin)
        }
        guard let anchor else { return }
        for vm in group where !holdsPin(vm) {
            if let failure = groupFailure([vm], on: anchor.host) {
                fail([vm], "must share a host with \(anchor.vm) (affinity): \(anchor.host): \(failure)")
            } else {
                decide(vm, on: anchor.host)
            }
        }
    }

    /// Places the group on the first candidate that takes all of it; false when none does.
    mutating func placeOnFirstValid(_ group: [PlacementRequest], of candidates: [String]) -> Bool {
        guard let host = candidates.first(where: { groupFailure(group, on: $0) == nil }) else { return false }
        for vm in group { decide(vm, on: host) }
        return true
    }

    /// Places the group on the least loaded host that takes all of it, else records why not.
    mutating func placeOnBest(_ group: [PlacementRequest]) {
        let best = bestHost(for: group)
        guard let host = best.host else { return fail(group, best.failures) }
        for vm in group { decide(vm, on: host) }
    }

    /// Records the decision for `vm` on `host` and counts its load there.
    mutating func decide(_ vm: PlacementRequest, on host: String) {
        result.decisions[vm.name] = decision(for: vm, on: host)
        ledger.add(vm, on: host)
    }

    /// A VM that fits nowhere: stuck where it runs, or unplaced when it runs nowhere.
    mutating func fail(_ group: [PlacementRequest], _ why: String) {
        for vm in group {
            guard let here = current[vm.name]?.host, let host = hosts[here], !unknownHosts.contains(here) else {
                result.unplaced[vm.name] = why
                continue
            }
            var decision = decision(for: vm, on: here)
            decision.reason = host.maintenance && vm.onMaintenance == .shutdown ? .shutDownForMaintenance : .stays
            result.decisions[vm.name] = decision
            result.stuck[vm.name] = "stays on \(here), which it should leave; \(why)"
            ledger.add(vm, on: here)
        }
    }

    /// Why `vm` lands on `host`, and the evacuation mark it carries there.
    func decision(for vm: PlacementRequest, on host: String) -> PlacementDecision {
        if let pin = vm.rule.pinned {
            guard host != pin else {
                let shutDown = hosts[pin]?.maintenance == true && vm.onMaintenance == .shutdown
                return PlacementDecision(host: host, reason: shutDown ? .shutDownForMaintenance : .pinned)
            }
            return PlacementDecision(host: host, reason: .evacuated, evacuatedFrom: pin)
        }
        guard let here = current[vm.name] else { return PlacementDecision(host: host, reason: .new) }
        let mark = evacuationMark(of: vm)
        if host == mark { return PlacementDecision(host: host, reason: .returns) }
        let hereInMaintenance = hosts[here.host]?.maintenance == true
        if host == here.host {
            let shutDown = hereInMaintenance && vm.onMaintenance == .shutdown
            return PlacementDecision(host: host, reason: shutDown ? .shutDownForMaintenance : .stays, evacuatedFrom: mark)
        }
        if hereInMaintenance { return PlacementDecision(host: host, reason: .evacuated, evacuatedFrom: mark ?? here.host) }
        return PlacementDecision(host: host, reason: .constraint, evacuatedFrom: mark)
    }
}
