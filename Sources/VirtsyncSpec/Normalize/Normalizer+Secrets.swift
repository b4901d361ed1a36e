import VirtsyncCore

extension Normalizer {
    /// The secret objects a VM names, each with the use that reads its value: its escape hatch's
    /// `((secret-uuid:NAME:TYPE))` and its network disks' `auth.secret` (one object per VM,
    /// Secret and usage type, whichever names it).
    func escapeHatchObjects(_ vm: MachineSpec, domain: String) -> [(SecretObjectModel, SecretUse)] {
        var out: [String: (SecretObjectModel, SecretUse)] = [:]
        // The first use of a VM's Secret and type names the object; later ones share it.
        func add(secret: String, type: String, field: String, location: String) {
            let consumer = SecretObjectModel.consumer(domain: domain, secret: secret, type: type)
            guard out[consumer] == nil else { return }
            let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: consumer), consumer: consumer,
                                           usage: .named(type: type, id: "virtsync/\(domain)/\(secret)"),
                                           secret: SecretMaterial(name: secret, digest: ""))
            out[consumer] = (object, SecretUse(name: secret, field: field, location: location, inline: true))
        }
        for (index, disk) in vm.disks.enumerated() {
            guard let network = disk.network, let secret = network.secret, let type = network.protocol.secretType else { continue }
            add(secret: secret.value, type: type, field: "\(vm.header.path).disks[\(index)].network.auth.secret",
                location: "\(secret.location.file):\(secret.location.line)")
        }
        for (fragment, at, key) in [(vm.xmlDevices, vm.xmlDevicesAt, "devices"), (vm.xmlDomain, vm.xmlDomainAt, "domain")] {
            guard let fragment, fragment.contains(SecretObjectTemplate.open) else { continue }
            for placeholder in SecretObjectTemplate.scan(fragment).placeholders {
                add(secret: placeholder.name, type: placeholder.type, field: "\(vm.header.path).xml.\(key)",
                    location: "\(at?.file ?? vm.header.location.file):\(at?.line ?? vm.header.location.line)")
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
