extension HASpec {
    /// What HA needs from a multi-host spec and the hosts as last observed: every host with its
    /// labels, capacity and maintenance; the `ha: true` VMs (to run when their power is
    /// `running`); the other VMs' requests (they take capacity); and where the spec's own
    /// placement puts each VM now, so the host that first claims an HA VM is the one the plan
    /// defines it on. A single-host spec has no HA VMs and gives an empty spec.
    public static func from(_ desired: DesiredState, observed: ObservedState) -> HASpec {
        guard !desired.machines.isEmpty else { return HASpec() }
        let input = ClusterPlacement.input(desired, observed: observed)
        let result = Placement.place(input)
        let ha = Set(desired.machines.filter(\.placement.ha).map(\.domain.name))
        var spec = HASpec(hosts: input.hosts)
        for machine in desired.machines where machine.placement.ha {
            spec.machines.append(HAMachine(request: ClusterPlacement.request(machine), shouldRun: machine.domain.power == .running))
        }
        spec.others = input.requests.filter { !ha.contains($0.name) }
        spec.assigned = result.decisions.mapValues(\.host)
        return spec
    }
}

extension DesiredState {
    /// The names of the `ha: true` VMs of a multi-host spec.
    public var haMachineNames: Set<String> { Set(machines.filter(\.placement.ha).map(\.domain.name)) }
}

extension DomainModel {
    /// The fields a create step of this domain lists (what a plan shows for a new VM).
    public var creationFields: [FieldChange] { DomainDiff.creationFields(self) }
}
