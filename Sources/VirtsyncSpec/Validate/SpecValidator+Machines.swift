import VirtsyncCore

extension SpecValidator {
    /// Decides each VM's host: its `host`, or the only host there is.
    mutating func placeMachines() {
        let single = index.hostNames.count == 1 ? index.hostNames.first : nil
        index.machineHosts = spec.machines.map { vm in
            guard let host = vm.host else {
                // A VM with `placement` floats: placement chooses its host once the cluster is read.
                if vm.placement != nil { return single }
                // No usable host at all is reported on the Host documents themselves.
                if single == nil, !index.hostNames.isEmpty, !vm.hostWritten {
                    reporter.error(vm.header.location, vm.header.path + ".host",
                                   "missing required key 'host' (or 'placement'): the spec has \(index.hostNames.count) hosts (\(index.hostNames.joined(separator: ", ")))")
                }
                return single
            }
            guard index.hostSet.contains(host.value) else {
                dangling(host, path: vm.header.path + ".host", kind: .host, candidates: index.hostNames)
                return nil
            }
            return host.value
        }
    }

    /// Networks of interfaces and the cloud-init pool exist and are on the VM's host.
    func checkMachineReferences() {
        for (position, vm) in spec.machines.enumerated() {
            if let placement = vm.placement { checkFloating(vm, placement) }
            guard let host = index.machineHosts[position] else { continue }
            for nic in vm.interfaces {
                guard let network = nic.network else { continue }
                checkPlaced(network, path: nic.path + ".network", kind: .network, host: host)
            }
            for disk in vm.disks {
                guard let volume = disk.volume else { continue }
                checkPlaced(Located(volume.value.pool, volume.location), path: disk.path + ".volume", kind: .storagePool, host: host)
            }
            guard let cloudInit = vm.cloudInit else { continue }
            if let pool = cloudInit.pool {
                checkPlaced(pool, path: cloudInit.path + ".pool", kind: .storagePool, host: host)
                checkSeedPool(pool.value, at: pool.location, path: cloudInit.path + ".pool")
            } else if let first = vm.disks.lazy.compactMap(\.volume).first {
                checkSeedPool(first.value.pool, at: cloudInit.location, path: cloudInit.path + ".pool")
            } else {
                reporter.error(cloudInit.location, cloudInit.path + ".pool",
                               "missing required key 'pool': the seed image goes to a pool, and this VM has no volume disk to take it from")
            }
        }
    }

    /// A VM placed by constraints: its hosts and VMs exist, some host has all it needs, and its
    /// disks do not create volumes (a created volume belongs to one host; a floating VM may move).
    private func checkFloating(_ vm: MachineSpec, _ placement: PlacementSpec) {
        let vmNames = Set(spec.machines.compactMap { $0.header.name?.value })
        for host in placement.hosts ?? [] where !index.hostSet.contains(host.value) {
            dangling(host, path: placement.path + ".hosts", kind: .host, candidates: index.hostNames)
        }
        for (key, refs) in [("affinity", placement.affinity), ("antiAffinity", placement.antiAffinity)] {
            for ref in refs {
                if ref.value == vm.header.name?.value {
                    reporter.error(ref.location, "\(placement.path).\(key)", "a VM cannot name itself in \(key)")
                } else if !vmNames.contains(ref.value) {
                    dangling(ref, path: "\(placement.path).\(key)", kind: .virtualMachine, candidates: Array(vmNames).sorted())
                }
            }
        }
        if let clash = placement.affinity.first(where: { ref in placement.antiAffinity.contains { $0.value == ref.value } }) {
            reporter.error(clash.location, placement.path + ".antiAffinity", "VM '\(clash.value)' is in both affinity and antiAffinity")
        }
        for disk in vm.disks where disk.createsVolume {
            reporter.error(disk.location, disk.path + ".size",
                           "a VM placed by constraints cannot create its volume (it would belong to one host); declare the volume in a shared pool's volumes, or pin the VM with 'host'")
        }
        for nic in vm.interfaces {
            guard let network = nic.network, index.networksByName[network.value] == nil else { continue }
            dangling(network, path: nic.path + ".network", kind: .network, candidates: Array(index.networksByName.keys).sorted())
        }
        for disk in vm.disks {
            guard let volume = disk.volume else { continue }
            guard let position = index.poolsByName[volume.value.pool] else {
                dangling(Located(volume.value.pool, volume.location), path: disk.path + ".volume", kind: .storagePool,
                         candidates: Array(index.poolsByName.keys).sorted())
                continue
            }
            // An HA VM gets the stronger warning about failover at this disk instead.
            if spec.pools[position].shared != true, !disk.createsVolume, !disk.cdrom, disk.readonly != true, !failsOver(vm) {
                reporter.warning(volume.location, disk.path + ".volume",
                                 "pool '\(volume.value.pool)' is not shared: the disk is copied whenever the VM moves")
            }
        }
        guard !spec.incomplete else { return }
        let networks = vm.interfaces.compactMap { $0.network?.value }
        let pools = vm.disks.compactMap { $0.volume?.value.pool } + (vm.cloudInit?.pool.map { [$0.value] } ?? [])
        let allowed = placement.hosts.map { $0.map(\.value) } ?? index.hostNames
        let fits = allowed.contains { host in
            networks.allSatisfy { index.network($0, isOn: host) } && pools.allSatisfy { index.pool($0, isOn: host) }
        }
        if !fits, !allowed.isEmpty {
            reporter.error(placement.location, placement.path,
                           "no allowed host has every network and pool this VM uses (\((networks + pools).joined(separator: ", ")))")
        }
    }

    /// The cloud-init seed is an ISO file: it needs a `dir` or `netfs` pool.
    private func checkSeedPool(_ name: String, at location: SourceLocation, path: String) {
        guard let position = index.poolsByName[name], spec.pools[position].type == .logical else { return }
        reporter.error(location, path, "the cloud-init seed image cannot go to the logical pool '\(name)'; set cloudInit.pool to a dir or netfs pool")
    }

    /// A network or pool reference: it exists, and is placed on `host`.
    func checkPlaced(_ ref: Located<String>, path: String, kind: DocumentKind, host: String) {
        let byName = kind == .network ? index.networksByName : index.poolsByName
        guard let position = byName[ref.value] else {
            dangling(ref, path: path, kind: kind, candidates: Array(byName.keys).sorted())
            return
        }
        let hosts = kind == .network ? index.networkHosts[position] : index.poolHosts[position]
        guard hosts.contains(host) || spec.incomplete else {
            reporter.error(ref.location, path,
                           "\(Self.noun(kind)) '\(ref.value)' is not on host \(host) (its hosts: \(hosts.joined(separator: ", ")))")
            return
        }
    }

    /// MACs and UUIDs are unique across all VMs.
    func checkIdentities() {
        var macs: [String: (String, SourceLocation)] = [:]
        var uuids: [String: (String, SourceLocation)] = [:]
        for vm in spec.machines {
            if let uuid = vm.uuid {
                if let (other, location) = uuids[uuid.value] {
                    reporter.error(uuid.location, vm.header.path + ".uuid", "UUID \(uuid.value) is also used by \(other) at \(location)")
                } else {
                    uuids[uuid.value] = (vm.header.path, uuid.location)
                }
            }
            for nic in vm.interfaces {
                guard let mac = nic.mac else { continue }
                if let (other, location) = macs[mac.value] {
                    reporter.error(mac.location, nic.path + ".mac", "MAC \(mac.value) is also used by \(other) at \(location)")
                } else {
                    macs[mac.value] = (nic.path, mac.location)
                }
            }
        }
    }

    /// The running VMs of each host fit in its declared capacity (memory and vCPUs).
    func checkCapacity() {
        var memory: [String: UInt64] = [:]
        var vcpus: [String: Int] = [:]
        var counts: [String: Int] = [:]
        for (position, vm) in spec.machines.enumerated() {
            guard let host = index.machineHosts[position], (vm.power ?? .running) != .stopped else { continue }
            let (sum, overflow) = memory[host, default: 0].addingReportingOverflow(vm.memory?.value.bytes ?? 0)
            memory[host] = overflow ? UInt64.max : sum
            vcpus[host, default: 0] += vm.vcpus?.value ?? 1
            counts[host, default: 0] += 1
        }
        for host in spec.hosts {
            guard let name = host.header.name?.value, index.hostsByName[name]?.header.location == host.header.location else { continue }
            let running = counts[name, default: 0]
            if let capacity = host.memoryCapacity, memory[name, default: 0] > capacity.value.bytes {
                let needed = ByteSize(bytes: memory[name, default: 0])
                reporter.error(capacity.location, host.header.path + ".capacity.memory",
                               "the \(running) running VMs on host \(name) need \(needed) of memory; capacity is \(capacity.value)")
            }
            if let capacity = host.cpuCapacity, vcpus[name, default: 0] > capacity.value {
                reporter.error(capacity.location, host.header.path + ".capacity.cpus",
                               "the \(running) running VMs on host \(name) need \(vcpus[name, default: 0]) vCPUs; capacity is \(capacity.value)")
            }
        }
    }
}
