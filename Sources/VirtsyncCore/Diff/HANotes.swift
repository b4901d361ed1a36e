/// Plan notes about HA VMs that could not fail over: another host restarts an HA VM only if it
/// sees the VM's disks, so each disk (the cloud-init seed included) must be a volume of a
/// `shared` pool. `ClusterPlacement` adds these notes to every plan of a multi-host spec.
public enum HANotes {
    /// A warning for each disk of an HA VM of `desired.machines` that is not on shared storage:
    /// a plain path, or a volume of a pool outside `desired.sharedPools`. Empty for a
    /// single-host spec (no `machines`): there is no other host to fail over to.
    public static func failover(_ desired: DesiredState) -> [PlanNote] {
        var notes: [PlanNote] = []
        for machine in desired.machines where machine.placement.ha {
            let vm = machine.domain
            for disk in vm.disks {
                let what: String
                switch disk.source {
                case .volume(let pool, let volume):
                    guard !desired.sharedPools.contains(pool) else { continue }
                    let seed = machine.seed.map { $0.pool == pool && $0.name == volume } ?? false
                    what = "\(pool)/\(volume)" + (seed ? ", the cloud-init seed" : "")
                case .file(let path):
                    what = path
                }
                notes.append(PlanNote(severity: .warning, message:
                    "domain \(vm.name) (ha) cannot fail over: disk \(disk.target) (\(what)) is not on shared storage; "
                        + "it will not be restarted on another host when its host dies"))
            }
        }
        return notes
    }
}
