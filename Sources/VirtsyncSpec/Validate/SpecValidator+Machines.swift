import VirtsyncCore

extension SpecValidator {
    /// Decides each VM's host: its `host`, or the only host there is.
    mutating func placeMachines() {
        let single = index.hostNames.count == 1 ? index.hostNames.first : nil
        index.machineHosts = spec.machines.map { vm in
            guard let host = vm.host else {
                // No usable host at all is reported on the Host documents themselves.
                if single == nil, !index.hostNames.isEmpty, !vm.hostWritten {
                    reporter.error(vm.header.location, vm.header.path + ".host",
                                   "missing required key 'host': the spec has \(index.hostNames.count) hosts (\(index.hostNames.joined(separator: ", ")))")
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
            guard let host = index.machineHosts[position], (vm.power ?? .running) == .running else { continue }
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
