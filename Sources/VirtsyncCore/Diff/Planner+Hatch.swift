extension PlanBuilder {
    /// Field changes of a network's or pool's raw XML (`xml.network`, `xml.pool`) against what
    /// libvirt holds, each with `disruption`.
    func hatchFields(_ fragment: String?, _ observed: ObservedHatch?, document: HatchOwnership.Document,
                     disruption: Disruption) -> [FieldChange] {
        HatchDiff.changes(desired: Hatch.leaves(fragment, in: document), observed: observed ?? ObservedHatch(complete: true),
                          document: document)
            .map { FieldChange(field: $0.field, before: $0.before, after: $0.after, disruption: disruption) }
    }
}
