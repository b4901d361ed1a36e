/// A VM that runs on one host and is placed on another.
struct Move: Sendable {
    var from: String
    var to: String
    var seen: ObservedDomain
    var decision: PlacementDecision?
}

extension PlanBuilder {
    /// Managed domains placed on a host other than the one they are defined on; and a running
    /// one placed on a host that has only a stopped copy of it (a host that came back after HA
    /// restarted the VM elsewhere, or an interrupted move): the running copy moves there,
    /// replacing the stopped one.
    static func moves(desired: DesiredState, observed: ObservedState, placement: PlacementResult) -> [String: Move] {
        var out: [String: Move] = [:]
        for host in desired.hosts {
            for vm in host.domains {
                let here = observed.hosts[host.name]?.domains[vm.name]
                if let here, here.state.isActive || !here.claim(by: desired.owner).isOurs { continue }
                for other in observed.hosts.keys.sorted() where other != host.name {
                    guard let seen = observed.hosts[other]?.domains[vm.name], seen.claim(by: desired.owner).isOurs else { continue }
                    if here != nil && !seen.state.isActive { continue }
                    if let found = out[vm.name], found.seen.state.isActive || !seen.state.isActive { continue }
                    out[vm.name] = Move(from: other, to: host.name, seen: seen, decision: placement.decisions[vm.name])
                }
            }
        }
        return out
    }

    /// A move: pre-flight checks, then a `migrate` step on the source host (and the definition
    /// and power changes on the destination after it), or an error note that leaves the VM
    /// where it is.
    mutating func planMigration(_ vm: DomainModel, move: Move, destination: DesiredHost, desired: DesiredState, observed: ObservedState) {
        let ref = ResourceRef(kind: .domain, host: move.from, name: vm.name)
        let live = move.seen.state.isActive
        let (checks, storage) = Preflight.checks(vm: vm, seen: move.seen, from: move.from, to: destination, desired: desired, observed: observed)
        let failed = checks.filter { !$0.passed }
        guard failed.isEmpty else {
            note(.error, ref, "migration of \(vm.name) \(move.from) → \(move.to) refused in pre-flight: "
                 + failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ") + "; the VM stays on \(move.from), untouched")
            return
        }
        guard var marker = move.seen.marker else { return }
        marker.evacuatedFrom = move.decision?.evacuatedFrom
        let target = destination.migrationURI ?? destination.uri ?? ""
        let migration = Migration(from: move.from, to: move.to, destinationURI: target, live: live, storage: storage,
                                  settings: settings.migration, marker: marker, checks: checks,
                                  ha: haNames.contains(vm.name) ? true : nil)
        add(PlanStep(action: .migrate, resource: ref,
                     changes: [FieldChange(field: "host", before: move.from, after: move.to, disruption: live ? .live : .none)],
                     disruption: live ? .live : .none, reason: Self.moveReason(move, live: live), payload: .migration(migration)))
        // Whatever else changed is done on the destination once the VM is there.
        let arrived = ResourceRef(kind: .domain, host: move.to, name: vm.name)
        planUpdate(vm: vm, seen: move.seen, seenMarker: marker, ref: arrived,
                   marker: OwnershipMarker(specDigest: specDigest, commit: commit, extraDigest: vm.extraXML.digest,
                                           evacuatedFrom: move.decision?.evacuatedFrom, owner: owner,
                                           graphicsPassword: vm.graphicsPassword?.markerValue))
    }

    static func moveReason(_ move: Move, live: Bool) -> String {
        let how = live ? "live migration" : "the VM is not running: redefined on \(move.to), undefined on \(move.from)"
        switch move.decision?.reason {
        case .evacuated?: return "host \(move.from) is in maintenance (\(how))"
        case .returns?: return "back to \(move.to) after maintenance (\(how))"
        case .constraint?: return "host \(move.from) no longer satisfies the VM's placement (\(how))"
        case .pinned?: return "the spec places the VM on \(move.to) (\(how))"
        default: return "placed on \(move.to) (\(how))"
        }
    }
}

/// Pre-flight checks of a migration, from the spec and what was read; pure.
enum Preflight {
    /// The checks, and how the disks get there.
    static func checks(vm: DomainModel, seen: ObservedDomain, from: String, to destination: DesiredHost,
                       desired: DesiredState, observed: ObservedState) -> ([PreflightCheck], MigrationStorage) {
        var out: [PreflightCheck] = []
        if let check = hostDevices(vm: vm, seen: seen, from: from) { out.append(check) }
        guard let target = observed.hosts[destination.name] else {
            return ([PreflightCheck(name: "destination", passed: false, detail: "host \(destination.name) could not be read")], .shared)
        }
        let networks = Set(seen.model.interfaces.compactMap(\.networkName) + vm.interfaces.compactMap(\.networkName)).sorted()
        out += networks.map { name in
            presence(kind: "networks", name: name, host: destination.name, declared: destination.networks.contains { $0.name == name },
                     seen: target.networks[name].map { ($0.active, $0.claim(by: desired.owner).isOurs) })
        }
        let pools = Set(seen.model.disks.compactMap(\.poolName) + vm.disks.compactMap(\.poolName)).sorted()
        out += pools.map { name in
            presence(kind: "pools", name: name, host: destination.name, declared: destination.pools.contains { $0.name == name },
                     seen: target.pools[name].map { ($0.active, $0.claim(by: desired.owner).isOurs) })
        }
        var (check, storage) = self.storage(seen: seen, desired: desired, observed: observed, from: from)
        if storage == .copy, !seen.state.isActive {
            check.passed = false
            check.detail += "; a stopped VM's local disks cannot be copied (start it, or make the pool shared)"
        }
        out.append(check)
        out.append(cpu(vm: vm, source: observed.hosts[from]?.facts, target: target.facts, from: from, to: destination.name))
        if seen.state.isActive { out.append(capacity(vm: vm, seen: seen, destination: destination, target: target)) }
        return (out, storage)
    }

    private static func presence(kind: String, name: String, host: String, declared: Bool, seen: (active: Bool, managed: Bool)?) -> PreflightCheck {
        if let seen, seen.active {
            return PreflightCheck(name: kind, passed: true, detail: "\(name) active on \(host)")
        }
        if declared, seen?.managed ?? true {
            return PreflightCheck(name: kind, passed: true, detail: "\(name) is \(seen == nil ? "created" : "started") on \(host) first")
        }
        if seen != nil {
            return PreflightCheck(name: kind, passed: false, detail: "\(name) on \(host) is inactive and not managed by virtsync")
        }
        return PreflightCheck(name: kind, passed: false, detail: "\(name) is missing on \(host)")
    }

    private static func storage(seen: ObservedDomain, desired: DesiredState, observed: ObservedState, from: String) -> (PreflightCheck, MigrationStorage) {
        var copied: [String] = []
        var shared: [String] = []
        let source = observed.hosts[from]
        let sharedPaths = (source?.pools.values ?? [:].values).filter { desired.sharedPools.contains($0.model.name) }.map { $0.model.path }
        for disk in seen.model.disks where !disk.readonly && !disk.cdrom {
            switch disk.source {
            case .volume(let pool, let volume):
                if desired.sharedPools.contains(pool) { shared.append("\(pool)/\(volume)") } else { copied.append("\(pool)/\(volume)") }
            case .file(let path), .block(let path):
                if sharedPaths.contains(where: { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) { shared.append(path) } else { copied.append(path) }
            case .network(let disk):
                shared.append(disk.summary)
            }
        }
        if !copied.isEmpty {
            return (PreflightCheck(name: "storage", passed: true, detail: "copied during the migration: \(copied.joined(separator: ", "))"), .copy)
        }
        return (PreflightCheck(name: "storage", passed: true, detail: shared.isEmpty ? "no writable disk" : "shared: \(shared.joined(separator: ", "))"),
                .shared)
    }

    private static func cpu(vm: DomainModel, source: HostFacts?, target: HostFacts?, from: String, to: String) -> PreflightCheck {
        guard let source, let target else {
            return PreflightCheck(name: "cpu", passed: true, detail: "not checked (host facts not read)")
        }
        guard source.arch == target.arch else {
            return PreflightCheck(name: "cpu", passed: false, detail: "\(from) is \(source.arch), \(to) is \(target.arch)")
        }
        let describe = { (f: HostFacts) in [f.cpuVendor, f.cpuModel].compactMap { $0 }.joined(separator: " ") }
        switch vm.cpuMode {
        case .hostPassthrough?:
            guard source.cpuVendor == target.cpuVendor, source.cpuModel == target.cpuModel else {
                return PreflightCheck(name: "cpu", passed: false,
                                      detail: "cpu host-passthrough needs the same CPU: \(from) has \(describe(source)), \(to) has \(describe(target))")
            }
        default:
            if let a = source.cpuVendor, let b = target.cpuVendor, a != b {
                return PreflightCheck(name: "cpu", passed: false, detail: "CPU vendors differ: \(from) \(a), \(to) \(b)")
            }
        }
        return PreflightCheck(name: "cpu", passed: true, detail: "\(source.arch), \(describe(target).isEmpty ? "compatible" : describe(target))")
    }

    private static func capacity(vm: DomainModel, seen: ObservedDomain, destination: DesiredHost, target: ObservedHost) -> PreflightCheck {
        guard let total = destination.memoryCapacity ?? target.facts?.memory else {
            return PreflightCheck(name: "capacity", passed: true, detail: "not checked (no capacity declared or read)")
        }
        let used = target.domains.values.filter { $0.state.isActive }.reduce(UInt64(0)) { $0 + ($1.live?.maxMemory ?? $1.model.maxMemory ?? $1.model.memory).bytes }
        let needed = (seen.live?.maxMemory ?? seen.model.maxMemory ?? seen.model.memory).bytes
        let free = total.bytes > used ? total.bytes - used : 0
        let text = "\(ByteSize(bytes: free)) free on \(destination.name), needs \(ByteSize(bytes: needed))"
        return PreflightCheck(name: "capacity", passed: free >= needed, detail: text)
    }
}

extension InterfaceModel {
    var networkName: String? {
        if case .network(let name) = source { return name }
        return nil
    }
}

extension DiskModel {
    var poolName: String? {
        if case .volume(let pool, _) = source { return pool }
        return nil
    }
}
