import Foundation

/// Builds the `ClusterView` from what was read: the spec (placed), the hosts read directly, the
/// plan, and what agents reported about their own hosts. Pure: the agent and `virtsync serve`
/// give it what they have, and it never reads anything itself.
public struct ClusterViewBuilder: Sendable {
    public var server: ClusterView.Server
    public var source: String
    public var commit: String?
    /// The spec with every VM on a host (`ClusterViewBuilder.placed(_:observed:)`); nil when it could not be loaded.
    public var desired: DesiredState?
    /// The hosts read directly (and why the others could not be).
    public var observed: ObservedState
    public var plan: Plan?
    /// Agents' reports by host; a host read directly keeps what was read, and takes its agent's
    /// word, history and last steps from its report.
    public var reports: [String: HostReport]
    /// HA owner records by VM.
    public var owners: [String: (host: String, epoch: Int64)]
    /// HA leases by host (the live members).
    public var leases: [String: HostView.Lease]
    /// Events the caller saw itself (`serve`: changes between two reads), any order.
    public var events: [EventView]
    public var banners: [Banner]
    /// Hosts that were not read and have no report: why (shown as unreachable).
    public var unread: String

    public init(server: ClusterView.Server, source: String, commit: String? = nil, desired: DesiredState? = nil,
                observed: ObservedState = ObservedState(), plan: Plan? = nil, reports: [String: HostReport] = [:],
                owners: [String: (host: String, epoch: Int64)] = [:], leases: [String: HostView.Lease] = [:],
                events: [EventView] = [], banners: [Banner] = [], unread: String = "not read") {
        self.server = server
        self.source = source
        self.commit = commit
        self.desired = desired
        self.observed = observed
        self.plan = plan
        self.reports = reports
        self.owners = owners
        self.leases = leases
        self.events = events
        self.banners = banners
        self.unread = unread
    }

    /// How many events and passes the view keeps.
    public static let eventsKept = 200
    public static let passesKept = 50

    public func build(at now: Date) -> ClusterView {
        var view = ClusterView(generatedAt: now, server: server, source: source, commit: commit)
        let desiredVMs = Self.desiredVMs(desired)
        // Each VM once, from the best source: a host read directly, then the report of a host
        // whose agent holds its lease, then any other report (its copy may be stale: a dead
        // host's last report still lists the VMs that now run elsewhere). Within one rank a
        // running copy wins (a migration caught half-way).
        var byName: [String: (rank: Int, vm: VMView)] = [:]
        for (rank, vm) in observedVMs() {
            if let other = byName[vm.name] {
                if other.rank < rank { continue }
                if other.rank == rank && other.vm.power == "running" && vm.power != "running" { continue }
            }
            byName[vm.name] = (rank, vm)
        }
        for (name, wanted) in desiredVMs where byName[name] == nil {
            let hostKnown = wanted.host.map { observed.hosts[$0] != nil || reports[$0] != nil } ?? false
            byName[name] = (3, VMView(name: name, desiredHost: wanted.host, power: hostKnown ? "absent" : "unknown",
                                      memoryMiB: wanted.memoryMiB, vcpus: wanted.vcpus))
        }
        let stepsByVM = Dictionary(grouping: planSteps().filter { $0.kind == "domain" }, by: \.name)
        var lastSteps: [String: VMView.LastStep] = [:]
        for report in reports.values {
            for (vm, step) in report.lastSteps where (lastSteps[vm]?.at ?? .distantPast) < step.at { lastSteps[vm] = step }
        }
        let vms = byName.values.map { entry in
            var vm = entry.vm
            if let wanted = desiredVMs[vm.name] {
                vm.desiredHost = wanted.host
                vm.desiredPower = wanted.power
                vm.ha = wanted.ha
            } else {
                vm.desiredHost = nil
                vm.desiredPower = nil
            }
            if let owner = owners[vm.name] {
                vm.haOwner = owner.host
                vm.haEpoch = owner.epoch
            }
            vm.drift = (stepsByVM[vm.name] ?? []).map { step in
                step.action + (step.fields.isEmpty ? "" : ": " + step.fields.joined(separator: ", ")) + " (\(step.disruption))"
            }
            vm.lastStep = lastSteps[vm.name] ?? vm.lastStep
            return vm
        }.sorted { $0.name < $1.name }
        view.vms = vms
        view.hosts = hosts(vms: vms)
        view.plan = planView()
        let reported = reports.values.sorted { $0.host < $1.host }
        view.passes = Array(reported.flatMap(\.passes).sorted { $0.startedAt > $1.startedAt }.prefix(Self.passesKept))
        view.failovers = Array(reported.flatMap(\.failovers).sorted { $0.at > $1.at }.prefix(HostReport.kept))
        view.migrations = Array(reported.flatMap(\.migrations).sorted { $0.at > $1.at }.prefix(HostReport.kept))
        var events = events + reported.flatMap(\.events)
        events += view.failovers.map { f in
            EventView(at: f.at, kind: "failover", severity: "warning", host: f.to, vm: f.vm,
                      message: "\(f.vm) taken over from \(f.from) (epoch \(f.epoch)\(f.seconds.map { String(format: ", %.1f s", $0) } ?? ""))")
        }
        view.events = Array(events.sorted { $0.at == $1.at ? $0.message < $1.message : $0.at > $1.at }.prefix(Self.eventsKept))
        view.banners = allBanners(hosts: view.hosts)
        return view
    }

    /// The spec as the view wants it: every VM on the host placement gives it, and the machines
    /// still listed (placement empties them; the view reads HA from them, and a VM placement
    /// could not put anywhere is still the spec's).
    public static func placed(_ desired: DesiredState, observed: ObservedState) -> DesiredState {
        var placed = desired.placed(observed: observed)
        placed.machines = desired.machines
        return placed
    }

    // MARK: - Parts

    struct Wanted {
        var host: String?
        var power: String
        var ha: Bool
        var memoryMiB: Int
        var vcpus: Int
    }

    static func desiredVMs(_ desired: DesiredState?) -> [String: Wanted] {
        guard let desired else { return [:] }
        let ha = Set(desired.machines.filter(\.placement.ha).map(\.domain.name))
        var out: [String: Wanted] = [:]
        for host in desired.hosts {
            for domain in host.domains {
                out[domain.name] = Wanted(host: host.name, power: domain.power.rawValue, ha: ha.contains(domain.name),
                                          memoryMiB: Self.mib(domain.memory), vcpus: domain.vcpus)
            }
        }
        // A machine placement could not put anywhere is still the spec's.
        for machine in desired.machines where out[machine.domain.name] == nil {
            out[machine.domain.name] = Wanted(host: machine.placement.rule.pinned, power: machine.domain.power.rawValue,
                                              ha: machine.placement.ha, memoryMiB: Self.mib(machine.domain.memory), vcpus: machine.domain.vcpus)
        }
        return out
    }

    static func mib(_ size: ByteSize) -> Int { Int(size.bytes / (1024 * 1024)) }

    /// The VM of an observed domain.
    public static func vm(_ domain: ObservedDomain, host: String) -> VMView {
        VMView(name: domain.model.name, host: host, power: domain.state.rawValue,
               memoryMiB: mib(domain.live?.memory ?? domain.model.memory), vcpus: domain.live?.vcpus ?? domain.model.vcpus,
               haEpoch: domain.marker?.haEpoch)
    }

    /// The managed VMs of an observed host that belong to the view: with an owner given, the
    /// owner's own (and those written before owners existed) and the spec's names; another
    /// team's VMs on a shared host are theirs to show.
    public static func vms(of host: ObservedHost, owner: String? = nil, names: Set<String> = []) -> [VMView] {
        host.domains.values.filter { domain in
            guard let marker = domain.marker else { return false }
            return owner == nil || marker.owner == nil || marker.owner == owner || names.contains(domain.model.name)
        }.map { vm($0, host: host.name) }.sorted { $0.name < $1.name }
    }

    /// What the active domains of a host take: every domain, managed or not, since all of them
    /// use the host's memory and CPUs.
    public static func used(_ host: ObservedHost) -> CapacityView {
        let active = host.domains.values.filter { $0.state.isActive }
        return CapacityView(memoryMiB: active.reduce(0) { $0 + mib($1.live?.memory ?? $1.model.memory) },
                            vcpus: active.reduce(0) { $0 + ($1.live?.vcpus ?? $1.model.vcpus) })
    }

    /// The VMs seen, each with the rank of its source (lower is better).
    private func observedVMs() -> [(Int, VMView)] {
        var out: [(Int, VMView)] = []
        let names = Set(Self.desiredVMs(desired).keys)
        for (name, host) in observed.hosts {
            out += Self.vms(of: host, owner: desired?.owner, names: names).map { var v = $0; v.host = name; return (0, v) }
        }
        for (name, report) in reports where observed.hosts[name] == nil {
            let live = !(observed.unreachable[name] != nil || observed.dead[name] != nil) && (leases.isEmpty || leases[name] != nil)
            out += report.vms.map { vm in
                var vm = vm
                vm.host = name
                // What a host that is gone last said is no longer known to hold.
                if !live { vm.power = "unknown" }
                return (live ? 1 : 2, vm)
            }
        }
        return out
    }

    private func hostNames() -> [String] {
        var names = desired?.hosts.map(\.name) ?? []
        for name in Set(observed.hosts.keys).union(observed.unreachable.keys).union(reports.keys).sorted() where !names.contains(name) {
            names.append(name)
        }
        return names
    }

    private func hosts(vms: [VMView]) -> [HostView] {
        hostNames().map { name in
            let spec = desired?.hosts.first { $0.name == name }
            let report = reports[name]
            var host = HostView(name: name, uri: spec?.uri, reachable: false, dead: observed.dead[name] != nil,
                                maintenance: spec?.maintenance ?? false, labels: spec?.labels ?? [:],
                                // With a board, only a live member's lease: a dead host's report still names its old one.
                                lease: leases.isEmpty ? report?.lease : leases[name], agent: report?.agent)
            if let seen = observed.hosts[name] {
                host.reachable = true
                host.used = Self.used(seen)
                host.capacity = CapacityView(memoryMiB: spec?.memoryCapacity.map(Self.mib) ?? seen.facts.map { Self.mib($0.memory) },
                                             vcpus: spec?.cpuCapacity ?? seen.facts?.cpus)
            } else if let why = observed.unreachable[name] {
                host.unreachableReason = why
                host.capacity = CapacityView(memoryMiB: spec?.memoryCapacity.map(Self.mib), vcpus: spec?.cpuCapacity)
            } else if let report {
                // Known from its agent's report: reachable while the agent holds its HA lease
                // (or, without HA, as of the report).
                host.reachable = leases.isEmpty || leases[name] != nil
                if !host.reachable { host.unreachableReason = "its agent holds no HA lease (last report \(Self.stamp(report.reportedAt)))" }
                host.used = report.used
                host.capacity = CapacityView(memoryMiB: spec?.memoryCapacity.map(Self.mib) ?? report.machine?.memoryMiB,
                                             vcpus: spec?.cpuCapacity ?? report.machine?.vcpus)
            } else {
                host.unreachableReason = unread
                host.capacity = CapacityView(memoryMiB: spec?.memoryCapacity.map(Self.mib), vcpus: spec?.cpuCapacity)
            }
            let here = vms.filter { $0.host == name }
            host.vmCount = here.count
            host.runningCount = here.filter { $0.power == "running" }.count
            return host
        }
    }

    private func planSteps() -> [PlanView.Step] {
        var steps: [PlanView.Step] = plan.map { plan in
            plan.steps.map { step in
                PlanView.Step(host: step.resource.host, action: step.action.rawValue, kind: step.resource.kind.rawValue,
                              name: step.resource.name, disruption: step.disruption.rawValue, reason: step.reason,
                              fields: step.changes.map(\.field))
            }
        } ?? []
        // Hosts not planned here (an agent plans its own host only): their agents' own steps.
        let planned = Set(steps.map(\.host))
        for report in reports.values.sorted(by: { $0.host < $1.host }) where !planned.contains(report.host) && observed.hosts[report.host] == nil {
            steps += report.plan
        }
        return steps
    }

    private func planView() -> PlanView {
        let steps = planSteps()
        var summary = "No changes."
        if !steps.isEmpty {
            let byAction = Dictionary(grouping: steps, by: \.action).mapValues(\.count)
            let actions = StepAction.allCases.compactMap { a in byAction[a.rawValue].map { "\($0) \(a.rawValue)" } }
            let byDisruption = Dictionary(grouping: steps, by: \.disruption).mapValues(\.count)
            let disruptions = Disruption.allCases.compactMap { d in byDisruption[d.rawValue].map { "\($0) \(d.rawValue)" } }
            summary = "Plan: \(actions.joined(separator: ", ")). Disruption: \(disruptions.joined(separator: ", "))."
        }
        let notes = (plan?.notes ?? []).map { PlanView.Note(severity: $0.severity.rawValue, message: $0.message) }
        return PlanView(summary: summary, steps: steps, notes: notes)
    }

    private func allBanners(hosts: [HostView]) -> [Banner] {
        var out = banners
        for report in reports.values.sorted(by: { $0.host < $1.host }) { out += report.banners }
        // A host is called out when it was tried and failed, or its agent lost its lease; a host
        // nobody here reads (an agent without HA sees only its own) is not a problem to flag.
        let failed = Set(observed.unreachable.keys).union(reports.keys.filter { observed.hosts[$0] == nil && !leases.isEmpty && leases[$0] == nil })
        for host in hosts where !host.reachable && !host.dead && failed.contains(host.name) {
            out.append(Banner(kind: "unreachable", severity: "warning", host: host.name,
                              message: "\(host.name) cannot be read: \(host.unreachableReason ?? "unknown")"))
        }
        for host in hosts where host.dead {
            out.append(Banner(kind: "dead", severity: "error", host: host.name,
                              message: "\(host.name) is dead: its HA lease expired (it fenced or was reset); its HA VMs run elsewhere"))
        }
        return out.sorted { ($0.severity == "error" ? 0 : 1, $0.host ?? "") < ($1.severity == "error" ? 0 : 1, $1.host ?? "") }
    }

    static func stamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
