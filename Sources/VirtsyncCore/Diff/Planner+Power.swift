extension PlanBuilder {
    /// The power state of an existing domain: start, stop, suspend or resume.
    ///
    /// `paused` is reached from `shutoff` by a start and then a suspend (two steps, so that the
    /// start keeps its restart-policy rules and its stop-marker handling, and the plan shows
    /// both); from `running` by a suspend. A paused domain that should run is resumed.
    mutating func planPower(vm: DomainModel, seen: ObservedDomain, ref: ResourceRef) {
        switch (vm.power, seen.state) {
        case (.running, .shutoff), (.running, .crashed), (.running, .other):
            planStart(vm: vm, seen: seen, ref: ref)
        case (.paused, .shutoff), (.paused, .crashed), (.paused, .other):
            if planStart(vm: vm, seen: seen, ref: ref) { addSuspend(vm: vm, ref: ref, from: "running") }
        case (.running, .paused):
            add(PlanStep(action: .resume, resource: ref,
                         changes: [FieldChange(field: "power", before: "paused", after: "running", disruption: .none)],
                         disruption: .none, reason: "power: running, but the VM is paused"))
        case (.paused, .running):
            addSuspend(vm: vm, ref: ref, from: "running")
        case (.stopped, .running), (.stopped, .paused):
            add(PlanStep(action: .stop, resource: ref, changes: [FieldChange(field: "power", before: seen.state.rawValue, after: "stopped", disruption: .stop)],
                         disruption: .stop, reason: "power: stopped"))
        default:
            break
        }
    }

    /// A suspend step: the guest's vCPUs stop (its memory and devices stay), so it counts as a
    /// `stop` disruption for whoever reads the plan.
    mutating func addSuspend(vm: DomainModel, ref: ResourceRef, from state: String) {
        add(PlanStep(action: .suspend, resource: ref,
                     changes: [FieldChange(field: "power", before: state, after: "paused", disruption: .stop)],
                     disruption: .stop, reason: "power: paused"))
    }
}
