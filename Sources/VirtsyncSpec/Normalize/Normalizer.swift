import VirtsyncCore

/// Turns a validated spec into the `DesiredState`: defaults filled in, networks and pools
/// placed on their hosts, volumes collected per host, cloud-init seeds built, everything sorted.
struct Normalizer {
    let spec: ClusterSpec
    let index: SpecIndex
    /// Every file of the spec by path, for cloud-init files.
    let files: [String: SpecFile]

    func desiredState(specDigest: String, commit: String?) -> DesiredState {
        var hosts: [String: DesiredHost] = [:]
        for name in index.hostNames {
            let host = index.hostsByName[name]
            hosts[name] = DesiredHost(name: name, uri: host?.uri?.value, memoryCapacity: host?.memoryCapacity?.value,
                                      cpuCapacity: host?.cpuCapacity?.value, migrationURI: host?.migrationURI?.value,
                                      labels: host?.labels ?? [:], maintenance: host?.maintenance ?? false)
        }
        // A shared pool's declared volumes are the same files on every host: only its first
        // host creates (and, with pruning, deletes) them; the others only read them.
        var sharedPools = Set<String>()
        var poolSteward: [String: String] = [:]
        for (position, pool) in spec.pools.enumerated() where pool.shared == true {
            guard let name = pool.header.name?.value else { continue }
            sharedPools.insert(name)
            poolSteward[name] = index.poolHosts[position].first
        }
        for (position, network) in spec.networks.enumerated() {
            guard var model = networkModel(network) else { continue }
            model.extraXML = network.xml?.value
            for host in index.networkHosts[position] { hosts[host]?.networks.append(model) }
        }
        for (position, pool) in spec.pools.enumerated() {
            guard var model = poolModel(pool) else { continue }
            model.extraXML = pool.xml?.value
            for host in index.poolHosts[position] { hosts[host]?.pools.append(model) }
        }
        // Encrypted pool volumes: a secret object on every host of the pool (the volume's own host
        // and every host that may open it), filled once the passphrase is read.
        var encrypted: [String: SecretUse] = [:]
        for (position, pool) in spec.pools.enumerated() {
            guard let poolName = pool.header.name?.value, let model = poolModel(pool) else { continue }
            for volume in pool.volumes {
                guard let secret = volume.encryptionSecret, let name = volume.name?.value else { continue }
                let key = "\(poolName)/\(name)"
                encrypted[key] = SecretUse(name: secret.value, field: volume.path + ".encryptionSecret",
                                           location: "\(secret.location.file):\(secret.location.line)", inline: true)
                var directory = model.type == .logical ? "/dev/\(model.volumeGroup ?? poolName)" : model.path
                while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
                let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: key), consumer: key, usage: .volume(path: "\(directory)/\(name)"),
                                               secret: SecretMaterial(name: secret.value, digest: ""))
                for host in index.poolHosts[position] { hosts[host]?.secretObjects.append(object) }
            }
        }
        // A pool's authentication object, on every host of the pool; the pool waits for it.
        for (position, pool) in spec.pools.enumerated() {
            guard poolModel(pool) != nil, let (object, use) = poolSecretObject(pool) else { continue }
            encrypted[object.consumer] = use
            for host in index.poolHosts[position] { hosts[host]?.secretObjects.append(object) }
        }
        for (key, entry) in index.volumes {
            if let steward = poolSteward[key.pool], steward != key.host { continue }
            hosts[key.host]?.volumes.append(entry.model)
        }
        let multiHost = index.hostNames.count > 1
        var objectUsers = Set<String>()
        var machines: [ClusterMachine] = []
        var pending: [String: PendingSecrets] = [:]
        for (position, vm) in spec.machines.enumerated() {
            guard let (domain, seed, secrets) = domainModel(vm, encrypted: encrypted) else { continue }
            if let secrets { pending[domain.name] = secrets }
            // The secret objects the VM's escape hatch names: on its host, or on every host a
            // VM of a cluster may run on.
            let objects = escapeHatchObjects(vm, domain: domain.name)
            if !objects.isEmpty {
                for (object, use) in objects { encrypted[object.consumer] = use }
                let targets = multiHost ? index.hostNames : [index.machineHosts[position]].compactMap { $0 }
                for host in targets { hosts[host]?.secretObjects += objects.map(\.0) }
                objectUsers.insert(domain.name)
            }
            if multiHost {
                let placement = DesiredPlacement(rule: rule(vm), onMaintenance: vm.onMaintenance ?? Self.defaultMaintenance(vm), ha: vm.ha ?? false,
                                                 failback: vm.failback?.value ?? true)
                machines.append(ClusterMachine(domain: domain, placement: placement, seed: seed))
                continue
            }
            guard let host = index.machineHosts[position] else { continue }
            hosts[host]?.domains.append(domain)
            if let seed { hosts[host]?.volumes.append(seed) }
        }
        let sorted = index.hostNames.compactMap { hosts[$0] }.map { host -> DesiredHost in
            var host = host
            host.networks.sort { $0.name < $1.name }
            host.pools.sort { $0.name < $1.name }
            host.volumes.sort { ($0.pool, $0.name) < ($1.pool, $1.name) }
            host.domains.sort { $0.name < $1.name }
            host.secretObjects.sort { $0.consumer < $1.consumer }
            return host
        }
        var adopt: Set<AdoptKey> = []
        for vm in spec.machines where vm.adopt { if let name = vm.header.name?.value { adopt.insert(AdoptKey(.domain, name)) } }
        for net in spec.networks where net.adopt { if let name = net.header.name?.value { adopt.insert(AdoptKey(.network, name)) } }
        for pool in spec.pools {
            guard let name = pool.header.name?.value else { continue }
            if pool.adopt { adopt.insert(AdoptKey(.pool, name)) }
            for volume in pool.volumes where volume.adopt {
                if let volumeName = volume.name?.value { adopt.insert(AdoptKey(.volume, "\(name)/\(volumeName)")) }
            }
        }
        let settings = settings()
        var desired = DesiredState(hosts: sorted, settings: settings, specDigest: specDigest, commit: commit,
                                   machines: machines.sorted { $0.domain.name < $1.domain.name }, sharedPools: sharedPools,
                                   owner: settings.owner, adopt: adopt)
        desired.secrets = secretReferences()
        desired.pendingSecrets = pending
        desired.pendingVolumeSecrets = encrypted
        // Until binding reads them: the encrypted volumes, the pools that authenticate, and every VM that uses a secret or
        // opens an encrypted volume, are held.
        var heldDomains = Set(pending.keys).union(objectUsers)
        for domain in sorted.flatMap(\.domains) + desired.machines.map(\.domain) where domain.disks.contains(where: { $0.encryption != nil }) {
            heldDomains.insert(domain.name)
        }
        desired.held = encrypted.keys.filter { SecretObjectModel.domain(ofConsumer: $0) == nil }.sorted()
            .map { consumer in
                SecretObjectModel.pool(ofConsumer: consumer).map { HeldResource(kind: .pool, name: $0, reason: HeldResource.pendingReason) }
                    ?? HeldResource(kind: .volume, name: consumer, reason: HeldResource.pendingReason)
            }
            + heldDomains.sorted().map { HeldResource(kind: .domain, name: $0, reason: HeldResource.pendingReason) }
        return desired
    }

    private func rule(_ vm: MachineSpec) -> PlacementRule {
        guard let spec = vm.placement else { return PlacementRule(pinned: vm.host?.value) }
        return PlacementRule(allowedHosts: spec.hosts.map { $0.map(\.value).sorted() }, labels: spec.labels,
                             affinity: spec.affinity.map(\.value).sorted(), antiAffinity: spec.antiAffinity.map(\.value).sorted())
    }

    private func settings() -> SpecSettings {
        let defaults = SpecSettings()
        guard let spec = spec.settings.first else { return defaults }
        return SpecSettings(prune: spec.prune ?? defaults.prune,
                            maxDeleteFraction: spec.maxDeletePercent.map { Double($0) / 100 } ?? defaults.maxDeleteFraction,
                            deleteVolumesWithVM: spec.deleteVolumesWithVM ?? defaults.deleteVolumesWithVM,
                            migration: spec.migration ?? defaults.migration,
                            owner: spec.owner?.value)
    }

    private func networkModel(_ network: NetworkSpec) -> NetworkModel? {
        guard let name = network.header.name?.value else { return nil }
        var ipv4: IPv4Config?
        if let spec = network.ipv4, let host = spec.hostAddress, let prefix = spec.prefix {
            let leases = spec.dhcpHosts.compactMap { lease -> DHCPHost? in
                guard let mac = lease.mac?.value, let ip = lease.ip?.value else { return nil }
                return DHCPHost(mac: mac, ip: ip, name: lease.name?.value)
            }
            ipv4 = IPv4Config(address: Formats.formatIPv4(host), prefix: prefix, dhcpStart: spec.dhcpStart?.value,
                              dhcpEnd: spec.dhcpEnd?.value, hosts: leases)
        }
        let ipv6 = network.ipv6.map { spec in
            IPv6Config(address: spec.address.description, prefix: spec.prefix,
                       dhcpRanges: spec.ranges.map { DHCPRange(start: $0.start.value, end: $0.end.value) },
                       hosts: spec.hosts.map { DHCPv6Host(id: $0.id?.value, name: $0.name?.value, ip: $0.ip.value) })
        }
        return NetworkModel(name: name, mode: network.mode ?? .nat, bridge: network.bridge?.value, ipv4: ipv4, ipv6: ipv6, dns: network.dns,
                            mtu: network.mtu, uplink: network.uplink?.value, bandwidth: network.bandwidth,
                            portgroups: network.portgroups.map { $0.map(\.value) }, autostart: network.autostart ?? true)
    }

    private func poolModel(_ pool: PoolSpec) -> PoolModel? {
        guard let name = pool.header.name?.value else { return nil }
        let type = pool.type ?? .dir
        switch type {
        case .logical:
            let group = pool.volumeGroup?.value ?? name
            return PoolModel(name: name, type: type, path: pool.path?.value ?? "/dev/\(group)", volumeGroup: group,
                             devices: pool.devices.map(\.value), autostart: pool.autostart ?? true)
        case .netfs:
            guard let path = pool.path?.value else { return nil }
            return PoolModel(name: name, type: type, path: path, sourceHost: pool.sourceHost?.value,
                             sourceDir: pool.sourceDir?.value, autostart: pool.autostart ?? true)
        case .dir:
            guard let path = pool.path?.value else { return nil }
            return PoolModel(name: name, type: type, path: path, autostart: pool.autostart ?? true)
        case .fs:
            guard let path = pool.path?.value else { return nil }
            return PoolModel(name: name, type: type, path: path, devices: pool.devices.map(\.value),
                             sourceFormat: pool.sourceFormat?.value, autostart: pool.autostart ?? true)
        case .iscsi:
            guard let target = pool.devices.first?.value else { return nil }
            return PoolModel(name: name, type: type, path: pool.path?.value ?? PoolType.iscsiPath, devices: [target],
                             sourceHost: pool.sourceHost?.value, initiator: pool.initiator?.value,
                             auth: poolAuth(pool, name: name, type: type), autostart: pool.autostart ?? true)
        case .rbd:
            guard let source = pool.sourceName?.value else { return nil }
            return PoolModel(name: name, type: type, path: "", sourceName: source, sourceHosts: pool.monitors,
                             auth: poolAuth(pool, name: name, type: type), autostart: pool.autostart ?? true)
        case .zfs:
            guard let source = pool.sourceName?.value else { return nil }
            return PoolModel(name: name, type: type, path: "", devices: pool.devices.map(\.value), sourceName: source,
                             autostart: pool.autostart ?? true)
        }
    }

    /// An iscsi or rbd pool's authentication: the user and the UUID of the pool's own secret
    /// object (see `poolSecretObject`).
    private func poolAuth(_ pool: PoolSpec, name: String, type: PoolType) -> DiskAuth? {
        guard let username = pool.authUsername?.value, pool.authSecret != nil, let usage = Self.secretType(of: type) else { return nil }
        return DiskAuth(username: username, secretType: usage,
                        secretUUID: SecretObjectModel.uuid(consumer: SecretObjectModel.consumer(pool: name, type: usage)))
    }

    /// libvirt's secret usage type for a pool's authentication.
    static func secretType(of type: PoolType) -> String? {
        switch type {
        case .iscsi: "iscsi"
        case .rbd: "ceph"
        default: nil
        }
    }

    /// The secret object a pool authenticates with, and the use that reads its value; nil for a
    /// pool without `source.auth`.
    func poolSecretObject(_ pool: PoolSpec) -> (SecretObjectModel, SecretUse)? {
        guard let name = pool.header.name?.value, let secret = pool.authSecret, pool.authUsername != nil, let type = pool.type,
              let usage = Self.secretType(of: type) else { return nil }
        let consumer = SecretObjectModel.consumer(pool: name, type: usage)
        let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: consumer), consumer: consumer,
                                       usage: .named(type: usage, id: "virtsync/pool:\(name)"),
                                       secret: SecretMaterial(name: secret.value, digest: ""))
        return (object, SecretUse(name: secret.value, field: pool.header.path + ".source.auth.secret",
                                  location: "\(secret.location.file):\(secret.location.line)", inline: true))
    }

    /// The domain, its cloud-init seed volume when it has one, and the secrets it still needs:
    /// a VM that uses secrets gets its password and seed once `SecretBinder` has them (its seed
    /// disk names a placeholder volume until then).
    private func domainModel(_ vm: MachineSpec, encrypted: [String: SecretUse]) -> (DomainModel, VolumeModel?, PendingSecrets?)? {
        guard let name = vm.header.name?.value, let memory = vm.memory?.value else { return nil }
        var disks = DiskTargets.assign(vm.disks, domain: name)
        for i in disks.indices {
            if case .volume(let pool, let volume) = disks[i].source, encrypted["\(pool)/\(volume)"] != nil {
                disks[i].encryption = SecretObjectModel.uuid(consumer: "\(pool)/\(volume)")
            }
        }
        var seed: VolumeModel?
        var pending = PendingSecrets(machine: name)
        if let password = vm.graphicsPassword {
            pending.graphicsPassword = SecretUse(name: password.value, field: "\(vm.header.path).graphics.passwordSecret",
                                                 location: "\(password.location.file):\(password.location.line)", inline: true)
        }
        if let cloudInit = vm.cloudInit,
           let pool = cloudInit.pool?.value ?? vm.disks.lazy.compactMap({ $0.volume?.value.pool }).first {
            let recipe = CloudInitSeed.recipe(machine: name, spec: cloudInit, pool: pool, files: files)
            let volumeName: String
            if recipe.uses.isEmpty {
                let volume = CloudInitSeed.volume(machine: name, recipe: recipe)
                volumeName = volume.name
                seed = volume
            } else {
                pending.seed = recipe
                volumeName = CloudInitSeed.pendingName(machine: name)
            }
            disks.append(DiskModel(target: DiskTargets.next(prefix: "sd", after: disks), bus: .sata, cdrom: true,
                                   source: .volume(pool: pool, volume: volumeName), readonly: true))
        }
        let interfaces = vm.interfaces.compactMap { nic -> InterfaceModel? in
            let source: InterfaceSource
            if let network = nic.network?.value {
                source = .network(network)
            } else if let bridge = nic.bridge?.value {
                source = .bridge(bridge)
            } else if let direct = nic.direct?.value {
                source = direct
            } else {
                return nil
            }
            return InterfaceModel(source: source, mac: nic.mac?.value, model: nic.model?.value ?? "virtio", linkUp: nic.linkUp,
                                  options: nic.options)
        }
        // A topology fixes the maximum vCPUs, and NUMA cells the maximum memory (validated to match).
        let numaMemory = vm.memoryTuning.numaCells.map { ByteSize(bytes: $0.reduce(0) { $0 + $1.memory.bytes }) }
        var domain = DomainModel(
            name: name, uuid: vm.uuid?.value, vcpus: vm.vcpus?.value ?? 1, maxVcpus: vm.maxVcpus?.value ?? vm.cpuTuning.topology?.vcpus,
            memory: memory, maxMemory: vm.maxMemory?.value ?? numaMemory, machine: vm.machine?.value,
            firmware: vm.firmware ?? .bios, loader: vm.loader?.value, cpuMode: vm.cpu,
            disks: disks, interfaces: interfaces, graphics: vm.graphics ?? GraphicsType.none,
            serialConsole: vm.console ?? true, autostart: vm.autostart ?? false, power: vm.power ?? .running,
            restartForUpdates: vm.restartForUpdates ?? false,
            restart: RestartPolicy(mode: vm.restartPolicy ?? .always, maxRestarts: vm.maxRestarts ?? RestartPolicy.defaultMaxRestarts,
                                   window: vm.restartWindow ?? RestartPolicy.defaultWindow),
            extraXML: ExtraXML(devices: vm.xmlDevices.map { SecretObjectTemplate.substitute($0, domain: name) },
                               domain: vm.xmlDomain.map { SecretObjectTemplate.substitute($0, domain: name) }))
        domain.platform = vm.platform
        domain.cpu = vm.cpuTuning
        domain.memoryTuning = vm.memoryTuning
        domain.graphicsListen = vm.graphicsListen?.value
        return (domain, seed, pending.uses.isEmpty ? nil : pending)
    }
}
