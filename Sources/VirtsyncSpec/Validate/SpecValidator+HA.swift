import VirtsyncCore

extension SpecValidator {
    /// Whether `vm` is an HA VM of a spec with several hosts: one that another host restarts
    /// when its host dies (a single host has nowhere to fail over to).
    func failsOver(_ vm: MachineSpec) -> Bool {
        vm.ha == true && index.hostNames.count > 1
    }

    /// An HA VM restarts on another host only if that host sees its disks: each disk, and the
    /// cloud-init seed, must be a volume of a `shared` pool. Anything else is a warning at the
    /// disk. Pools that do not exist are reported by the reference checks.
    func checkFailoverStorage() {
        for vm in spec.machines where failsOver(vm) {
            for disk in vm.disks {
                if let volume = disk.volume {
                    guard let position = index.poolsByName[volume.value.pool], spec.pools[position].shared != true else { continue }
                    reporter.warning(volume.location, disk.path + ".volume",
                                     "disk \(volume.value.pool)/\(volume.value.volume) is in pool '\(volume.value.pool)', which is not shared: "
                                         + Self.noFailover + "; put it in a pool with 'shared: true'")
                } else if let file = disk.file {
                    reporter.warning(file.location, disk.path + ".file",
                                     "disk \(file.value) is a plain path, not a volume of a shared pool: "
                                         + Self.noFailover + "; use a volume of a pool with 'shared: true'")
                }
            }
            guard let cloudInit = vm.cloudInit else { continue }
            // The seed goes to `cloudInit.pool`, or else to the pool of the first volume disk.
            let written = cloudInit.pool
            guard let pool = written?.value ?? vm.disks.lazy.compactMap({ $0.volume?.value.pool }).first,
                  let position = index.poolsByName[pool], spec.pools[position].shared != true else { continue }
            let which = written == nil ? "pool '\(pool)' (the pool of its first volume disk)" : "pool '\(pool)'"
            reporter.warning(written?.location ?? cloudInit.location, cloudInit.path + ".pool",
                             "the cloud-init seed goes to \(which), which is not shared: "
                                 + Self.noFailover + "; set cloudInit.pool to a pool with 'shared: true'")
        }
    }

    /// `failback` only says where an HA VM goes after a failover: on any other VM it is a
    /// warning at the key, since it most likely means that `ha: true` was forgotten.
    func checkFailback() {
        for vm in spec.machines where vm.ha != true {
            guard let failback = vm.failback else { continue }
            reporter.warning(failback.location, vm.header.path + ".failback", "failback has no effect without 'ha: true'")
        }
    }

    /// What a disk off shared storage means for an HA VM.
    private static let noFailover = "this HA VM will not be restarted on another host when its host dies"
}
