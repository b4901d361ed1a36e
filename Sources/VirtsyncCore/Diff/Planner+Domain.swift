extension PlanBuilder {
    /// Domains of one host: define, update (live, next-boot or with a restart), power state, removal.
    mutating func planDomains(host: DesiredHost, live: ObservedHost) {
        for vm in host.domains {
            let ref = ResourceRef(kind: .domain, host: host.name, name: vm.name)
            let marker = OwnershipMarker(specDigest: specDigest, commit: commit, extraDigest: vm.extraXML.digest, owner: owner,
                                         graphicsPassword: vm.graphicsPassword?.markerValue)
            if let move = moves[vm.name], move.to == host.name, let cluster, live.domains[vm.name] != nil {
                // Only a stopped copy here, and the VM runs on another host: it moves here.
                planMigration(vm, move: move, destination: host, desired: cluster.desired, observed: cluster.observed)
                continue
            }
            guard let seen = live.domains[vm.name] else {
                if let move = moves[vm.name], move.to == host.name, let cluster {
                    planMigration(vm, move: move, destination: host, desired: cluster.desired, observed: cluster.observed)
                    continue
                }
                add(PlanStep(action: .create, resource: ref, changes: DomainDiff.creationFields(vm), disruption: .none,
                             reason: "in the spec, not on the host", payload: .domain(vm, live: [], marker: marker)))
                if vm.power == .running {
                    add(PlanStep(action: .start, resource: ref, disruption: .none, reason: "power: running"))
                } else if vm.power == .paused {
                    add(PlanStep(action: .start, resource: ref, disruption: .none, reason: "power: paused (started, then paused)"))
                    addSuspend(vm: vm, ref: ref, from: "running")
                }
                continue
            }
            let claim = seen.claim(by: owner)
            guard claim.isOurs, let seenMarker = seen.marker else {
                let differences = claim == .unmanaged || claim == .unowned
                    ? DomainDiff.compare(desired: vm, observed: seen, compareHatch: false).changes.map(\.field) : []
                _ = ownedOrAdopted(claim, ref: ref, noun: "domain \(vm.name)", differences: differences,
                                   payload: .domain(vm, live: [], marker: marker),
                                   unmanaged: "domain \(vm.name) exists and is not managed by virtsync; it is never changed, started or stopped")
                continue
            }
            if let uuid = vm.uuid, uuid.lowercased() != seen.uuid.lowercased() {
                note(.error, ref, "domain \(vm.name) has UUID \(seen.uuid), the spec says \(uuid); a UUID cannot change in place (delete the domain or drop the uuid field)")
                continue
            }
            planUpdate(vm: vm, seen: seen, seenMarker: seenMarker, ref: ref, marker: marker)
        }
        // A set, not a search of the list per domain: that was quadratic (50 million string
        // comparisons at 10,000 domains).
        let wanted = Set(host.domains.map(\.name))
        for name in live.domains.keys.sorted() where !wanted.contains(name) {
            guard let seen = live.domains[name] else { continue }
            switch seen.claim(by: owner) {
            case .ours: break
            case .unowned: unownedOutsideSpec(ResourceRef(kind: .domain, host: host.name, name: name), noun: "domain \(name)"); continue
            case .other, .unmanaged: continue
            }
            // Moving away, or kept where it is because placement could not decide.
            if moves[name]?.from == host.name || placedElsewhere.contains(name) { continue }
            removed(ResourceRef(kind: .domain, host: host.name, name: name),
                    disruption: seen.state.isActive ? .stop : .none,
                    detail: (seen.state.isActive ? "the running VM is stopped and undefined" : "the VM is undefined")
                        + (settings.deleteVolumesWithVM ? "" : "; its volumes are kept"))
        }
    }

    mutating func planUpdate(vm: DomainModel, seen: ObservedDomain, seenMarker: OwnershipMarker, ref: ResourceRef, marker: OwnershipMarker) {
        let running = seen.state.isActive
        let diff = DomainDiff.compare(desired: vm, observed: seen)
        if !diff.changes.isEmpty {
            let needsBoot = diff.changes.contains { $0.disruption == .nextBoot }
            let restart = running && needsBoot && vm.restartForUpdates && vm.power == .running
            let worst = diff.changes.map(\.disruption).max() ?? .none
            let reason: String
            if !running {
                reason = "definition changed; the VM is not running, so it takes effect at its next start"
            } else if restart {
                reason = "definition changed; some changes need a restart and restartForUpdates allows it"
            } else if needsBoot {
                reason = "definition changed; some changes take effect at the next boot (restart pending)"
            } else {
                reason = "changed live on the running VM and in its definition"
            }
            add(PlanStep(action: .update, resource: ref, changes: diff.changes, disruption: worst, reason: reason,
                         payload: .domain(mergedModel(vm, seen), live: diff.live, marker: marker)))
            if restart {
                add(PlanStep(action: .restart, resource: ref, disruption: .restart, reason: "apply changes that need a restart"))
            } else if running && needsBoot {
                note(.info, ref, "domain \(vm.name): changes to \(diff.changes.filter { $0.disruption == .nextBoot }.map(\.field).joined(separator: ", ")) take effect at its next boot")
            }
        }
        if diff.changes.isEmpty, running, let live = seen.live {
            // The definition matches the spec but the running guest still has the old one (an
            // earlier next-boot change): report it on every pass, and restart when allowed.
            var stale: [String] = []
            let definedMax = seen.model.maxMemory ?? seen.model.memory
            if live.maxMemory != definedMax { stale.append("maxMemory \(live.maxMemory) → \(definedMax)") }
            let definedCPUs = seen.model.maxVcpus ?? seen.model.vcpus
            if live.maxVcpus != definedCPUs { stale.append("maxVcpus \(live.maxVcpus) → \(definedCPUs)") }
            if !stale.isEmpty {
                if vm.restartForUpdates && vm.power == .running {
                    add(PlanStep(action: .restart, resource: ref,
                                 changes: stale.map { FieldChange(field: "running definition", before: nil, after: $0, disruption: .restart) },
                                 disruption: .restart, reason: "the running VM still has an older definition and restartForUpdates allows a restart"))
                } else {
                    note(.info, ref, "domain \(vm.name): restart pending (the running VM still has \(stale.joined(separator: ", ")))")
                }
            }
        }
        planPower(vm: vm, seen: seen, ref: ref)
    }

    /// A VM that should run and is not active: started when it was never started or stopped on
    /// purpose, restarted after a failure or a shutdown as its restart policy says, else reported.
    /// Returns whether a start step was planned.
    @discardableResult
    mutating func planStart(vm: DomainModel, seen: ObservedDomain, ref: ResourceRef) -> Bool {
        let cause = StopCause.classify(seen) ?? .notStarted
        let policy = vm.restart.mode.rawValue
        let (label, sentence) = Self.describeStop(seen)
        guard vm.restart.allowsStart(after: cause) else {
            // A failure someone should look at is a warning; a shutdown the policy accepts is not.
            note(cause == .failure ? .warning : .info, ref,
                 "domain \(vm.name) stopped (\(label)); restartPolicy \(policy) leaves it stopped")
            return false
        }
        let reason = cause == .notStarted
            ? "power: running, but the VM is \(seen.state.rawValue)"
            : "restart (restartPolicy \(policy)): \(sentence)"
        add(PlanStep(action: .start, resource: ref, changes: [FieldChange(field: "power", before: seen.state.rawValue, after: "running", disruption: .none)],
                     disruption: .none, reason: reason))
        return true
    }

    /// How a stopped VM stopped, in words: a short label for notes and a sentence for reasons.
    private static func describeStop(_ seen: ObservedDomain) -> (label: String, sentence: String) {
        switch seen.stopReason {
        case .crashed: return ("crashed", "the VM crashed")
        case .failed: return ("failed", "the VM failed")
        case .destroyed: return ("destroyed outside virtsync", "the VM was destroyed outside virtsync")
        case .shutdown: return ("shut down", "the VM shut down")
        case .other: return ("reason not named by libvirt", "the VM stopped for a reason libvirt does not name")
        case .unknown, .saved, .migrated, .fromSnapshot, .daemon, nil:
            return seen.state == .crashed ? ("crashed", "the VM crashed") : (seen.state.rawValue, "the VM is \(seen.state.rawValue)")
        }
    }

    /// The definition to write: the spec's fields, with the values the spec leaves open taken
    /// from what exists (generated MACs, the machine type, maximum memory and vCPUs).
    private func mergedModel(_ vm: DomainModel, _ seen: ObservedDomain) -> DomainModel {
        var out = vm
        out.uuid = vm.uuid ?? seen.uuid
        out.maxMemory = DomainDiff.effectiveMaxMemory(vm, seen.model)
        out.maxVcpus = DomainDiff.effectiveMaxVcpus(vm, seen.model)
        out.machine = vm.machine ?? seen.model.machine
        out.interfaces = DomainDiff.interfacesKeepingMACs(vm.interfaces, seen.model.interfaces)
        return out
    }
}
