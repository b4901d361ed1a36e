extension PlanBuilder {
    /// A host's secret objects: created with their value before what uses them; a changed
    /// value set again where that is safe (rbd, iSCSI, TLS credentials, for the next start) and
    /// refused where the data is encrypted with the old one (a LUKS volume, a TPM's state);
    /// removed after what used them.
    mutating func planSecretObjects(host: DesiredHost, live: ObservedHost) {
        let wanted = Set(host.secretObjects.map(\.uuid))
        var blocked = Set<String>()
        for var object in host.secretObjects {
            object.owner = owner
            let ref = ResourceRef(kind: .secret, host: host.name, name: object.consumer)
            let what = Self.purpose(object.consumer)
            if let pool = SecretObjectModel.pool(ofConsumer: object.consumer), let seen = live.pools[pool],
               !seen.claim(by: owner).isOurs, !adopt.contains(AdoptKey(.pool, pool)) {
                // A pool of that name that is not this spec's is used as it is: it gets no object.
                continue
            }
            guard let seen = live.secretObjects[object.uuid] else {
                if live.volumes[object.consumer] != nil {
                    // The volume exists without its secret object (removed by hand): made again
                    // with the spec's value, which opens the volume only if it is the same.
                    note(.warning, ref, "the secret object of encrypted volume \(object.consumer) is missing; it is made again from \(object.secret.description)")
                }
                add(PlanStep(action: .create, resource: ref,
                             changes: [FieldChange(field: "value", before: nil, after: object.secret.description, disruption: .none)],
                             disruption: .none, reason: "holds \(what)", payload: .secretObject(object)))
                continue
            }
            switch seen.claim(by: owner) {
            case .ours:
                guard let digest = seen.marker?.digest, digest != object.secret.digest else { continue }
                let before = SecretMaterial(name: seen.marker?.secret ?? object.secret.name, digest: digest).description
                if object.usage.canChangeValue {
                    let when = SecretObjectModel.pool(ofConsumer: object.consumer) == nil
                        ? "libvirt hands the new value over when the VM next starts" : "libvirt uses the new value when the pool next starts"
                    add(PlanStep(action: .update, resource: ref,
                                 changes: [FieldChange(field: "value", before: before, after: object.secret.description, disruption: .nextBoot)],
                                 disruption: .nextBoot, reason: "the secret changed; \(when)",
                                 payload: .secretObject(object)))
                } else {
                    let advice = SecretObjectModel.domain(ofConsumer: object.consumer) == nil
                        ? "restore the secret's value, or give the volume a new name"
                        : "restore the secret's value: the TPM's state opens only with the old one"
                    note(.error, ref, "\(what) changed (\(before) → \(object.secret.description)): the data is encrypted with the old value, and virtsync does not re-key it; the old value stays (\(advice))")
                }
            case .unmanaged, .unowned, .other:
                note(.error, ref, "a secret object with UUID \(object.uuid) exists on host \(host.name) and is not this spec's; \(what) is not set up with it")
                blocked.insert(object.consumer)
            }
        }
        if !blocked.isEmpty { blockedSecrets[host.name, default: []].formUnion(blocked) }
        for (uuid, seen) in live.secretObjects.sorted(by: { $0.key < $1.key }) where !wanted.contains(uuid) {
            guard seen.claim(by: owner).isOurs, let consumer = seen.marker?.consumer else { continue }
            let ref = ResourceRef(kind: .secret, host: host.name, name: consumer)
            if let vm = SecretObjectModel.domain(ofConsumer: consumer) {
                // A VM's object goes once the VM no longer names it: it is gone, or this plan
                // redefines or removes it (the object goes after that step).
                let domainSteps = steps.contains { $0.resource == ResourceRef(kind: .domain, host: host.name, name: vm)
                    && [.update, .replace, .delete].contains($0.action) }
                if live.domains[vm] != nil && !domainSteps {
                    note(.info, ref, "the secret object \(consumer) is kept while domain \(vm) may still name it")
                    continue
                }
                add(PlanStep(action: .delete, resource: ref, disruption: .none,
                             reason: domainSteps ? "domain \(vm) no longer names it" : "domain \(vm) is gone"))
                continue
            }
            if let pool = SecretObjectModel.pool(ofConsumer: consumer) {
                // A pool's object goes after the pool no longer names it: it is gone, or this
                // plan redefines or removes it.
                let poolSteps = steps.contains { $0.resource == ResourceRef(kind: .pool, host: host.name, name: pool)
                    && [.replace, .delete].contains($0.action) }
                if live.pools[pool] != nil && !poolSteps {
                    note(.info, ref, "the secret object \(consumer) is kept while pool \(pool) may still name it")
                    continue
                }
                add(PlanStep(action: .delete, resource: ref, disruption: .none,
                             reason: poolSteps ? "pool \(pool) no longer names it" : "pool \(pool) is gone"))
                continue
            }
            let volumeGoes = steps.contains { $0.resource == ResourceRef(kind: .volume, host: host.name, name: consumer) && $0.action == .delete }
            if live.volumes.values.contains(where: { $0.model.encryption == uuid }) && !volumeGoes {
                note(.info, ref, "the secret object of volume \(consumer) is kept while the volume exists: without it the volume cannot be opened")
                continue
            }
            add(PlanStep(action: .delete, resource: ref, disruption: .none,
                         reason: volumeGoes ? "its encrypted volume is deleted" : "its encrypted volume is gone"))
        }
    }

    /// Takes out what a secret object that is not this spec's would be used by: the encrypted
    /// volume's creation, every step of a VM that opens that volume or names that object, and
    /// the definition of a pool that authenticates with it.
    /// Runs once every host's domains are planned.
    mutating func dropBlocked(_ desired: DesiredState) {
        guard !blockedSecrets.isEmpty else { return }
        var domains: [String: Set<String>] = [:]
        for host in desired.hosts {
            guard let blocked = blockedSecrets[host.name] else { continue }
            for consumer in blocked {
                if let vm = SecretObjectModel.domain(ofConsumer: consumer) { domains[host.name, default: []].insert(vm) }
            }
            for domain in host.domains where domain.disks.contains(where: { disk in
                guard case .volume(let p, let v) = disk.source else { return false }
                return disk.encryption != nil && blocked.contains("\(p)/\(v)")
            }) {
                domains[host.name, default: []].insert(domain.name)
            }
        }
        let dropped = Set(steps.filter { step in
            let blocked = blockedSecrets[step.resource.host] ?? []
            switch step.resource.kind {
            case .volume: return step.action == .create && blocked.contains(step.resource.name)
            case .domain: return domains[step.resource.host]?.contains(step.resource.name) == true
            case .pool:
                // A pool would name an object that is not this spec's: it is not (re)defined.
                return step.action != .delete && blocked.contains { SecretObjectModel.pool(ofConsumer: $0) == step.resource.name }
            default: return false
            }
        }.map(\.id))
        steps.removeAll { dropped.contains($0.id) }
        for index in steps.indices { steps[index].dependsOn.removeAll { dropped.contains($0) } }
    }

    /// What an object is for, for plans and notes.
    static func purpose(_ consumer: String) -> String {
        if let pool = SecretObjectModel.pool(ofConsumer: consumer) { return "the key pool \(pool) authenticates with" }
        guard let vm = SecretObjectModel.domain(ofConsumer: consumer) else { return "the passphrase of encrypted volume \(consumer)" }
        let parts = consumer.split(separator: ":")
        return "secret \(parts.count > 1 ? String(parts[1]) : consumer) of domain \(vm)'s XML (\(parts.count > 2 ? String(parts[2]) : "?"))"
    }
}
