extension PlanBuilder {
    /// Takes every step that would touch a held VM out of the plan: its definition, power,
    /// migration and removal, and its cloud-init seeds (`NAME-cidata-…`); likewise a held pool's
    /// definition, start, volumes and authentication object. Each held VM is an
    /// error note with the reason, so the plan cannot pass for complete.
    mutating func hold(_ held: [HeldResource]) {
        guard !held.isEmpty else { return }
        let domains = Set(held.filter { $0.kind == .domain }.map(\.name))
        let volumes = Set(held.filter { $0.kind == .volume }.map(\.name))
        let pools = Set(held.filter { $0.kind == .pool }.map(\.name))
        func touchesHeld(_ ref: ResourceRef) -> Bool {
            switch ref.kind {
            case .domain: return domains.contains(ref.name)
            case .secret:
                return volumes.contains(ref.name) || SecretObjectModel.domain(ofConsumer: ref.name).map(domains.contains) == true
                    || SecretObjectModel.pool(ofConsumer: ref.name).map(pools.contains) == true
            case .volume:
                if volumes.contains(ref.name) { return true }
                // A held pool's volumes wait with it.
                if let slash = ref.name.firstIndex(of: "/"), pools.contains(String(ref.name[..<slash])) { return true }
                let volume = ref.name.split(separator: "/", maxSplits: 1).last.map(String.init) ?? ref.name
                guard let range = volume.range(of: "-cidata-") else { return false }
                return domains.contains(String(volume[..<range.lowerBound]))
            case .pool: return pools.contains(ref.name)
            case .network: return false
            }
        }
        let dropped = Set(steps.filter { touchesHeld($0.resource) }.map(\.id))
        steps.removeAll { dropped.contains($0.id) }
        for index in steps.indices { steps[index].dependsOn.removeAll { dropped.contains($0) } }
        notes.removeAll { note in note.resource.map(touchesHeld) ?? false }
        for item in held.sorted(by: { $0.name < $1.name }) {
            notes.append(PlanNote(severity: .error, resource: nil,
                                  message: "\(item.kind.rawValue) \(item.name) is left exactly as it is: \(item.reason)"))
        }
    }
}
