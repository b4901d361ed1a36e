extension PlanBuilder {
    /// The secret objects of a host's encrypted volumes: created before their volume (with the
    /// value), never changed (a LUKS volume's data is encrypted with the passphrase it was made
    /// with), removed with their volume.
    mutating func planSecretObjects(host: DesiredHost, live: ObservedHost) {
        let wanted = Set(host.secretObjects.map(\.uuid))
        var blocked = Set<String>()
        for var object in host.secretObjects {
            object.owner = owner
            let ref = ResourceRef(kind: .secret, host: host.name, name: object.volume)
            guard let seen = live.secretObjects[object.uuid] else {
                if live.volumes[object.volume] != nil {
                    // The volume exists without its secret object (removed by hand): made again
                    // with the spec's value, which opens the volume only if it is the same.
                    note(.warning, ref, "the secret object of encrypted volume \(object.volume) is missing; it is made again from \(object.secret.description)")
                }
                add(PlanStep(action: .create, resource: ref,
                             changes: [FieldChange(field: "passphrase", before: nil, after: object.secret.description, disruption: .none)],
                             disruption: .none, reason: "holds the passphrase of encrypted volume \(object.volume)",
                             payload: .secretObject(object)))
                continue
            }
            switch seen.claim(by: owner) {
            case .ours:
                if let digest = seen.marker?.digest, digest != object.secret.digest {
                    note(.error, ref, "the passphrase of encrypted volume \(object.volume) changed (\(object.secret.description)): a LUKS volume's data is encrypted with the passphrase it was made with, and virtsync does not re-key it; the volume keeps the old one (restore the secret's value, or give the volume a new name)")
                }
            case .unmanaged, .unowned, .other:
                note(.error, ref, "a secret object with UUID \(object.uuid) exists on host \(host.name) and is not this spec's; encrypted volume \(object.volume) is not created with it")
                blocked.insert(object.volume)
            }
        }
        if !blocked.isEmpty {
            steps.removeAll { $0.resource.host == host.name && $0.resource.kind == .volume && $0.action == .create && blocked.contains($0.resource.name) }
        }
        for (uuid, seen) in live.secretObjects.sorted(by: { $0.key < $1.key }) where !wanted.contains(uuid) {
            guard seen.claim(by: owner).isOurs, let volume = seen.marker?.volume else { continue }
            let ref = ResourceRef(kind: .secret, host: host.name, name: volume)
            let volumeGoes = steps.contains { $0.resource == ResourceRef(kind: .volume, host: host.name, name: volume) && $0.action == .delete }
            if live.volumes.values.contains(where: { $0.model.encryption == uuid }) && !volumeGoes {
                note(.info, ref, "the secret object of volume \(volume) is kept while the volume exists: without it the volume cannot be opened")
                continue
            }
            add(PlanStep(action: .delete, resource: ref, disruption: .none,
                         reason: volumeGoes ? "its encrypted volume is deleted" : "its encrypted volume is gone"))
        }
    }
}
