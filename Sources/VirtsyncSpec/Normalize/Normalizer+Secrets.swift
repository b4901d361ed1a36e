import VirtsyncCore

extension Normalizer {
    /// The secret objects a VM names, each with the use that reads its value: its escape hatch's
    /// `((secret-uuid:NAME:TYPE))` and its network disks' `auth.secret` (one object per VM,
    /// Secret and usage type, whichever names it).
    func escapeHatchObjects(_ vm: MachineSpec, domain: String) -> [(SecretObjectModel, SecretUse)] {
        var out: [String: (SecretObjectModel, SecretUse)] = [:]
        for (index, disk) in vm.disks.enumerated() {
            guard let network = disk.network, let secret = network.secret, let type = network.protocol.secretType else { continue }
            let consumer = SecretObjectModel.consumer(domain: domain, secret: secret.value, type: type)
            guard out[consumer] == nil else { continue }
            let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: consumer), consumer: consumer,
                                           usage: .named(type: type, id: "virtsync/\(domain)/\(secret.value)"),
                                           secret: SecretMaterial(name: secret.value, digest: ""))
            let use = SecretUse(name: secret.value, field: "\(vm.header.path).disks[\(index)].network.auth.secret",
                                location: "\(secret.location.file):\(secret.location.line)", inline: true)
            out[consumer] = (object, use)
        }
        for (fragment, at, key) in [(vm.xmlDevices, vm.xmlDevicesAt, "devices"), (vm.xmlDomain, vm.xmlDomainAt, "domain")] {
            guard let fragment, fragment.contains(SecretObjectTemplate.open) else { continue }
            for placeholder in SecretObjectTemplate.scan(fragment).placeholders {
                let consumer = SecretObjectModel.consumer(domain: domain, secret: placeholder.name, type: placeholder.type)
                guard out[consumer] == nil else { continue }
                let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: consumer), consumer: consumer,
                                               usage: .named(type: placeholder.type, id: "virtsync/\(domain)/\(placeholder.name)"),
                                               secret: SecretMaterial(name: placeholder.name, digest: ""))
                let use = SecretUse(name: placeholder.name, field: "\(vm.header.path).xml.\(key)",
                                    location: "\(at?.file ?? vm.header.location.file):\(at?.line ?? vm.header.location.line)", inline: true)
                out[consumer] = (object, use)
            }
        }
        return out.keys.sorted().compactMap { out[$0] }
    }

    /// The spec's Secret documents by name, with an age file's ciphertext.
    func secretReferences() -> [String: SecretReference] {
        var out: [String: SecretReference] = [:]
        for secret in spec.secrets {
            guard let name = secret.header.name?.value, out[name] == nil else { continue }
            let declared = "\(secret.header.location.file):\(secret.header.location.line)"
            if let path = secret.ageFile?.value {
                out[name] = SecretReference(name: name, source: .age(path: path), declaredAt: declared, ciphertext: files[path]?.bytes ?? [])
            } else if let path = secret.hostFile?.value {
                out[name] = SecretReference(name: name, source: .host(path: path), declaredAt: declared)
            }
        }
        return out
    }
}
