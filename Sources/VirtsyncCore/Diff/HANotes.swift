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
                case .file(let path), .block(let path):
                    what = path
                case .network:
                    continue
                }
                notes.append(PlanNote(severity: .warning, message:
                    "domain \(vm.name) (ha) cannot fail over: disk \(disk.target) (\(what)) is not on shared storage; "
                        + "it will not be restarted on another host when its host dies"))
            }
        }
        return notes
    }

    /// One info note with where each HA VM runs and under which HA epoch (the epoch in its
    /// domain's marker, written by the agent that owns it): `HA: db-1 on host-b (epoch 812),
    /// web-1 not running (HA starts it where its owner record says)`. Nil-free: a plan of a spec
    /// with no HA VMs, or one host, has no such note.
    public static func ownership(_ desired: DesiredState, observed: ObservedState) -> [PlanNote] {
        let names = desired.machines.filter(\.placement.ha).map(\.domain.name).sorted()
        guard !names.isEmpty else { return [] }
        var runs: [String: [(host: String, epoch: Int64?)]] = [:]
        for (hostName, host) in observed.hosts {
            for name in names {
                guard let domain = host.domains[name], domain.state.isActive else { continue }
                runs[name, default: []].append((hostName, domain.marker?.haEpoch))
            }
        }
        let parts = names.map { name -> String in
            guard let copies = runs[name]?.sorted(by: { $0.host < $1.host }), !copies.isEmpty else {
                return "\(name) not running (HA starts it where its owner record says)"
            }
            let each = copies.map { copy in
                copy.epoch.map { "\(copy.host) (epoch \($0))" } ?? "\(copy.host) (no epoch yet: the agents' HA claims it)"
            }
            return "\(name) on " + each.joined(separator: " and ")
        }
        return [PlanNote(severity: .info, message: "HA: " + parts.joined(separator: ", "))]
    }
}
