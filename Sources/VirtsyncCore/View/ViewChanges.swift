import Foundation

/// The timeline of a reader that only looks (`virtsync serve`): what changed between two views
/// it built, as events. A VM on another host is a migration, or a failover when the host it
/// left is dead or cannot be read; a host that stops answering, or answers again, is an event.
public enum ViewChanges {
    /// The events from `old` to `new`, and the moves among them (`observed` migrations and
    /// failovers), seen at `now`.
    public static func between(_ old: ClusterView, _ new: ClusterView, at now: Date)
        -> (events: [EventView], migrations: [MigrationView], failovers: [FailoverView]) {
        var events: [EventView] = []
        var migrations: [MigrationView] = []
        var failovers: [FailoverView] = []
        let oldHosts = Dictionary(old.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for host in new.hosts {
            guard let before = oldHosts[host.name] else { continue }
            if before.reachable && !host.reachable {
                events.append(EventView(at: now, kind: "host", severity: "error", host: host.name,
                                        message: "\(host.name) cannot be read: \(host.unreachableReason ?? "unknown")"))
            } else if !before.reachable && host.reachable {
                events.append(EventView(at: now, kind: "host", host: host.name, message: "\(host.name) answers again"))
            }
            if !before.dead && host.dead {
                events.append(EventView(at: now, kind: "host", severity: "error", host: host.name, message: "\(host.name) is dead (HA lease expired)"))
            }
            if before.maintenance != host.maintenance {
                events.append(EventView(at: now, kind: "host", severity: "warning", host: host.name,
                                        message: host.maintenance ? "\(host.name) enters maintenance" : "\(host.name) leaves maintenance"))
            }
        }
        let hostNow = Dictionary(new.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let oldVMs = Dictionary(old.vms.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for vm in new.vms {
            guard let before = oldVMs[vm.name] else {
                if let host = vm.host { events.append(EventView(at: now, kind: "vm", host: host, vm: vm.name, message: "\(vm.name) appears on \(host) (\(vm.power))")) }
                continue
            }
            if let from = before.host, let to = vm.host, from != to {
                let fromHost = hostNow[from]
                let lost = fromHost.map { !$0.reachable || $0.dead } ?? true
                if lost && vm.ha {
                    failovers.append(FailoverView(vm: vm.name, from: from, to: to, epoch: vm.haEpoch ?? 0, at: now))
                } else {
                    migrations.append(MigrationView(vm: vm.name, from: from, to: to, at: now, outcome: "observed"))
                    events.append(EventView(at: now, kind: "migration", host: to, vm: vm.name, message: "\(vm.name) moved from \(from) to \(to)"))
                }
            } else if before.power != vm.power, vm.power != "unknown", before.power != "unknown" {
                let severity = vm.power == "crashed" ? "error" : (vm.power == "running" ? "info" : "warning")
                events.append(EventView(at: now, kind: "vm", severity: severity, host: vm.host ?? before.host, vm: vm.name,
                                        message: "\(vm.name) \(before.power) → \(vm.power)"))
            }
        }
        let newNames = Set(new.vms.map(\.name))
        for vm in old.vms where !newNames.contains(vm.name) {
            events.append(EventView(at: now, kind: "vm", severity: "warning", host: vm.host, vm: vm.name, message: "\(vm.name) is gone"))
        }
        return (events, migrations, failovers)
    }
}

extension Banner {
    /// The banner of a refused commit (or spec), placed at the first error when there is one.
    public static func stalled(host: String?, reason: String, message: String, location: SourceLocation?, commit: String?,
                               kind: String = "stalled") -> Banner {
        let who = host.map { "the agent on \($0) is stalled (\(reason))" } ?? "the spec is refused (\(reason))"
        return Banner(kind: kind, severity: "error", host: host, message: "\(who): \(message)", file: location?.file,
                      line: location.map(\.line), column: location.map(\.column), commit: commit)
    }
}
