import VirtsyncCore

extension HASimulation {
    func handle(_ action: Action) {
        switch action {
        case .tick(let index, let generation):
            guard hosts[index].agentUp, hosts[index].agentGeneration == generation, hosts[index].power != .down else { return }
            if hosts[index].power == .up {
                send(index, .tick)
                // A hung libvirtd answers no read: the runner's reads time out, one per deadline.
                if let hung = hosts[index].hungSince {
                    if now - hung >= config.callTimeout { send(index, .libvirtUnanswered(vm: nil)) }
                } else {
                    send(index, .localDomains(localDomains(index)))
                }
            }
            schedule(after: hosts[index].trueDuration(tickInterval), .tick(host: index, generation: generation))
        case .poll(let index, let generation):
            guard hosts[index].agentUp, hosts[index].agentGeneration == generation, hosts[index].power != .down else { return }
            if hosts[index].power == .up { toEtcd(index, .view) }
            schedule(after: hosts[index].trueDuration(min(.milliseconds(500), config.timings.renewInterval / 2)),
                     .poll(host: index, generation: generation))
        case .deliver(let index, let generation, let event):
            guard acting(index, generation: generation) else { return }
            deliver(index, event)
        case .request(let index, let generation, let request):
            serve(index, generation: generation, request)
        case .libvirt(let index, let generation, let boot, let operation):
            libvirt(index, generation: generation, boot: boot, operation)
        case .startDeadline(let index, let generation, let vm, let token):
            guard acting(index, generation: generation), hosts[index].openStarts[vm] == token else { return }
            hosts[index].openStarts[vm] = nil
            send(index, .libvirtUnanswered(vm: vm))
        case .etcdExpiry:
            expireLeases()
            let leaderRate = etcd.leader.map { hosts[$0].rate } ?? 1
            schedule(after: .nanoseconds(Int64(5e8 / leaderRate)), .etcdExpiry)
        case .election:
            elect()
        case .fault:
            injectFault()
        case .strike(let fault, let index, let label):
            strike(fault, on: index, label: label)
        case .heal(let fault, let index):
            heal(fault, host: index)
        case .watchdogCheck(let index, let boot):
            watchdogCheck(index, boot: boot)
        case .agentStart(let index):
            guard hosts[index].power == .up, !hosts[index].agentUp else { return }
            bootAgent(index, spec: haSpec())
            hosts[index].fault = nil
            faultOver()
        case .boot(let index):
            bootHost(index)
        case .deliverView(let index, let generation, let revision, let members, let owners):
            guard acting(index, generation: generation), revision >= hosts[index].lastRevision else { return }
            hosts[index].lastRevision = revision
            send(index, .members(members))
            send(index, .owners(owners))
        }
    }

    /// A reply reaches the agent: claims and grants are answered once, whatever comes first,
    /// the answer or the call's deadline.
    func deliver(_ index: Int, _ event: HAEvent) {
        switch event {
        case .claimed(let vm, _), .claimLost(let vm):
            guard hosts[index].openClaims.remove(vm) != nil else { return }
        case .leaseGranted, .leaseGrantFailed, .leaseIDTaken:
            guard hosts[index].openGrant else { return }
            hosts[index].openGrant = false
        default:
            break
        }
        send(index, event)
    }

    // MARK: - etcd

    /// Whether member `index` takes part (up, not frozen, not cut off).
    func memberUp(_ index: Int) -> Bool { hosts[index].power == .up && !hosts[index].cut }

    var quorum: Bool { etcd.members.filter(memberUp).count * 2 > etcd.members.count }

    /// Whether the leader serves requests now.
    var etcdServes: Bool {
        guard let leader = etcd.leader else { return false }
        return memberUp(leader) && quorum
    }

    /// Notices a leader that can no longer lead, and schedules an election.
    func checkLeader() {
        guard let leader = etcd.leader, !(memberUp(leader) && quorum) else { return }
        etcd.leader = nil
        etcd.leaderLostAt = now
        log("etcd: leader \(hosts[leader].name) lost")
        scheduleElection()
    }

    func scheduleElection() {
        let timeout = Double(config.electionTimeout.components.seconds) + Double(config.electionTimeout.components.attoseconds) / 1e18
        schedule(after: seconds(rng.double(in: timeout...(2 * timeout))), .election)
    }

    func elect() {
        guard etcd.leader == nil else { return }
        let candidates = etcd.members.filter(memberUp)
        guard quorum, !candidates.isEmpty else {
            scheduleElection()
            return
        }
        let leader = candidates[rng.int(candidates.count)]
        etcd.leader = leader
        // A new leader gives every lease its full TTL again, on its own clock.
        for (id, lease) in etcd.leases { etcd.leases[id] = (lease.ttl, now + hosts[leader].trueDuration(lease.ttl)) }
        log("etcd: \(hosts[leader].name) leads; every lease renewed to its TTL")
    }

    func expireLeases() {
        guard etcdServes else { return }
        let expired = Set(etcd.leases.filter { $0.value.expiresAt <= now }.map(\.key))
        guard !expired.isEmpty else { return }
        for id in expired { etcd.leases[id] = nil }
        let gone = etcd.memberKeys.filter { expired.contains($0.value) }.map(\.key)
        etcd.memberKeys = etcd.memberKeys.filter { !expired.contains($0.value) }
        if !gone.isEmpty {
            log("etcd: lease of \(gone.sorted().joined(separator: ", ")) expired")
            changed()
        }
    }

    /// A write: the revision moves and every watcher is told.
    func changed() {
        etcd.revision += 1
        for index in hosts.indices where hosts[index].agentUp {
            pushView(index, generation: hosts[index].agentGeneration)
        }
    }

    func pushView(_ index: Int, generation: Int) {
        let host = hosts[index]
        guard !host.cut, !host.deaf, let delay = delay(slow: host.slow) else { return }
        schedule(after: delay, .deliverView(host: index, generation: generation, revision: etcd.revision,
                                            members: etcd.memberKeys, owners: etcd.owners))
    }

    func serve(_ index: Int, generation: Int, _ request: Request) {
        guard etcdServes else { return }
        let leaderRate = hosts[etcd.leader!]
        switch request {
        case .grant(let id, let retry, let replacing, let sentAt):
            let name = hosts[index].name
            if let replacing, etcd.leases.removeValue(forKey: replacing) != nil {
                log("etcd: lease \(replacing) of \(name) revoked (fenced from)")
                if etcd.memberKeys[name] == replacing { etcd.memberKeys[name] = nil }
                changed()
            }
            if etcd.leases[id] == nil {
                etcd.leases[id] = (config.timings.leaseTTL, now + leaderRate.trueDuration(config.timings.leaseTTL))
                log("etcd: lease \(id) granted to \(name), expires at \(Self.format(etcd.leases[id]!.expiresAt))")
            } else if !retry {
                toHost(index, generation: generation, .leaseIDTaken(id: id))
                return
            }
            if let held = etcd.memberKeys[name], held != id {
                // The key is still on an older lease of this host (the agent fenced before etcd
                // expired it), or this is a join given up on, arriving late: either way the key
                // stays where it is, and never moves off a lease the agent holds.
                log("etcd: member key of \(name) stays on lease \(held); join on lease \(id) refused")
                faultCounts["joinRefused", default: 0] += 1
                toHost(index, generation: generation, .leaseGrantFailed)
                return
            }
            if etcd.memberKeys[name] != id {
                etcd.memberKeys[name] = id
                changed()
            }
            toHost(index, generation: generation, .leaseGranted(id: id, sentAt: sentAt))
        case .renew(let id, let sentAt):
            if let lease = etcd.leases[id] {
                etcd.leases[id] = (lease.ttl, now + leaderRate.trueDuration(lease.ttl))
                log("etcd: renewal of lease \(id) from \(hosts[index].name) (sent \(Self.format(sentAt)) by its clock), expires at \(Self.format(etcd.leases[id]!.expiresAt))")
                toHost(index, generation: generation, .leaseRenewed(id: id, sentAt: sentAt))
            } else {
                toHost(index, generation: generation, .leaseGone(id: id))
            }
        case .claim(let vm, let claim):
            let conditions = etcd.owners[vm]?.epoch == claim.expectedEpoch
                && !claim.notAttached.contains { etcd.memberKeys[$0.key] == $0.value }
                && claim.attached(claimant: hosts[index].name).allSatisfy { etcd.memberKeys[$0.key] == $0.value }
            guard conditions else {
                toHost(index, generation: generation, .claimLost(vm: vm))
                return
            }
            // The write's revision, which `changed()` makes current, is the epoch.
            let record = claim.record(claimant: hosts[index].name, epoch: etcd.revision + 1)
            if let last = lastEpoch[vm], record.epoch <= last { violate("the epoch of \(vm) went from \(last) to \(record.epoch)") }
            lastEpoch[vm] = record.epoch
            etcd.owners[vm] = record
            log("etcd: \(vm) → \(record.host) epoch \(record.epoch)")
            changed()
            toHost(index, generation: generation, .claimed(vm: vm, record))
        case .view:
            let host = hosts[index]
            guard !host.cut, !host.deaf, let delay = delay(slow: host.slow) else { return }
            schedule(after: delay, .deliverView(host: index, generation: generation, revision: etcd.revision,
                                                members: etcd.memberKeys, owners: etcd.owners))
        }
    }

    // MARK: - libvirt

    func libvirt(_ index: Int, generation: Int, boot: Int, _ operation: Operation) {
        guard hosts[index].boot == boot, hosts[index].power != .down else { return }
        if case .start = operation, hosts[index].hangNextStart {
            hosts[index].hangNextStart = false
            hosts[index].hungSince = now
            log("\(hosts[index].name): libvirtd hangs in a start")
        }
        if hosts[index].power == .frozen || hosts[index].hungSince != nil {
            schedule(after: .milliseconds(100), .libvirt(host: index, generation: generation, boot: boot, operation))
            return
        }
        let report = hosts[index].agentUp && hosts[index].agentGeneration == generation
        switch operation {
        case .start(let vm, let epoch, let token):
            let fails = hosts[index].running[vm] != nil || rng.double(in: 0...1) < config.startFailure
            if !fails {
                hosts[index].running[vm] = epoch
                hosts[index].defined.insert(vm)
                log("\(hosts[index].name): \(vm) runs with epoch \(epoch)")
            }
            // The runner reports it unless its deadline already did.
            guard report, hosts[index].openStarts[vm] == token else { return }
            hosts[index].openStarts[vm] = nil
            send(index, .startFinished(vm: vm, epoch: epoch, succeeded: !fails))
        case .stop(let vm):
            if hosts[index].running.removeValue(forKey: vm) != nil { log("\(hosts[index].name): \(vm) stopped") }
            if report { send(index, .stopFinished(vm: vm, succeeded: true)) }
        case .mark(let vm, let epoch):
            let runs = hosts[index].running[vm] != nil
            if runs { hosts[index].running[vm] = epoch }
            if report { send(index, .markFinished(vm: vm, epoch: epoch, succeeded: runs)) }
        }
    }

    // MARK: - Faults

    func injectFault() {
        nextFaultScheduled = false
        let kinds = config.faults
        let fault = kinds[rng.int(kinds.count)]
        let candidates = hosts.indices.filter { hosts[$0].power == .up && hosts[$0].agentUp && hosts[$0].fault == nil }
        guard !candidates.isEmpty else {
            faultOver()
            return
        }
        let index = candidates[rng.int(candidates.count)]
        // Sometimes a second fault on another host while this one lasts.
        if rng.double(in: 0...1) < config.overlap, hosts.filter({ $0.fault != nil }).isEmpty {
            nextFaultScheduled = true
            schedule(after: seconds(rng.double(in: 0...10)), .fault)
        }
        strike(fault, on: index, label: fault.rawValue)
    }

    /// Starts `fault` on host `index` (if it is up, its agent runs and it has no fault yet).
    func strike(_ fault: Fault, on index: Int, label: String) {
        guard hosts[index].power == .up, hosts[index].agentUp, hosts[index].fault == nil else { return }
        // Timed only when everything else is healthy: the bound assumes a quorum and room.
        let healthy = hosts.allSatisfy { $0.power == .up && $0.agentUp && $0.fault == nil }
        timedCrash?.spoiled = true
        hosts[index].fault = fault
        faultCounts[label, default: 0] += 1
        log("FAULT \(label) \(hosts[index].name)")
        let length = seconds(rng.double(in: 2...15))
        switch fault {
        case .crash:
            let vms = Set(vmNames.filter { hosts[index].running[$0] != nil })
            timedCrash = vms.isEmpty ? nil : (index, now, vms, !healthy, recoveryBound, .crash)
            crash(index)
            schedule(after: seconds(rng.double(in: 5...20)), .boot(host: index))
            return
        case .libvirtHang:
            // One HA guest's QEMU dies; the start that brings it back hangs libvirtd.
            if let vm = vmNames.filter({ hosts[index].running[$0] != nil }).first {
                hosts[index].running[vm] = nil
                log("\(hosts[index].name): QEMU of \(vm) dies")
                timedCrash = (index, now, [vm], !healthy, hangBound, .libvirtHang)
                hosts[index].hangNextStart = true
            } else {
                hosts[index].hungSince = now
            }
            schedule(after: seconds(rng.double(in: config.hangLength)), .heal(fault, host: index))
            return
        case .freeze:
            hosts[index].power = .frozen
        case .cut:
            hosts[index].cut = true
        case .deaf:
            hosts[index].deaf = true
        case .mute:
            hosts[index].mute = true
        case .slow:
            hosts[index].slow = true
        case .agentCrash:
            hosts[index].agentUp = false
            hosts[index].controller = nil
            hosts[index].openClaims = []
            hosts[index].openGrant = false
            schedule(after: seconds(rng.double(in: 0.5...10)), .agentStart(host: index))
            return
        }
        checkLeader()
        schedule(after: length, .heal(fault, host: index))
    }

    func heal(_ fault: Fault, host index: Int) {
        switch fault {
        case .freeze:
            if hosts[index].power == .frozen { hosts[index].power = .up }
        case .cut: hosts[index].cut = false
        case .deaf: hosts[index].deaf = false
        case .mute: hosts[index].mute = false
        case .slow: hosts[index].slow = false
        case .libvirtHang:
            guard hosts[index].power != .down, hosts[index].fault == .libvirtHang else { return }
            hosts[index].hungSince = nil
            hosts[index].hangNextStart = false
        case .crash, .agentCrash: return
        }
        log("HEALED \(fault.rawValue) \(hosts[index].name)")
        if etcd.leader == nil && etcd.leaderLostAt != nil { scheduleElection() }
        // A host the watchdog reset meanwhile is healed when its agent starts again.
        if hosts[index].power == .up, hosts[index].agentUp { hosts[index].fault = nil }
        faultOver()
    }

    /// Once no host has a fault, the next one comes after a calm period.
    func faultOver() {
        guard !nextFaultScheduled, hosts.allSatisfy({ $0.fault == nil }) else { return }
        nextFaultScheduled = true
        schedule(after: seconds(rng.double(in: config.calm)), .fault)
    }

    func crash(_ index: Int) {
        hosts[index].power = .down
        hosts[index].running = [:]
        hosts[index].agentUp = false
        hosts[index].controller = nil
        hosts[index].openClaims = []
        hosts[index].openGrant = false
        hosts[index].cut = false
        hosts[index].deaf = false
        hosts[index].mute = false
        hosts[index].slow = false
        hosts[index].lastPet = nil
        hosts[index].hungSince = nil
        hosts[index].hangNextStart = false
        hosts[index].openStarts = [:]
        checkLeader()
    }

    func bootHost(_ index: Int) {
        guard hosts[index].power == .down else { return }
        hosts[index].power = .up
        hosts[index].boot += 1
        hosts[index].bootedAt = now
        hosts[index].running["plain-\(index)"] = 0
        log("\(hosts[index].name): boots (its copies defined, none running)")
        schedule(after: .milliseconds(100), .watchdogCheck(host: index, boot: hosts[index].boot))
        if etcd.leader == nil { scheduleElection() }
        schedule(after: seconds(rng.double(in: 1...3)), .agentStart(host: index))
    }

    func watchdogCheck(_ index: Int, boot: Int) {
        guard config.watchdog, hosts[index].boot == boot, hosts[index].power != .down else { return }
        if let pet = hosts[index].lastPet, now - pet > config.timings.watchdogTimeout {
            log("\(hosts[index].name): WATCHDOG resets the host (last pet \(Self.format(now - pet)) s ago)")
            faultCounts["watchdogReset", default: 0] += 1
            // The reset that ends a hung libvirtd is part of that fault's recovery.
            if !(timedCrash?.host == index && timedCrash?.fault == .libvirtHang) { timedCrash?.spoiled = true }
            hosts[index].fault = hosts[index].fault ?? .crash
            crash(index)
            schedule(after: seconds(rng.double(in: 5...15)), .boot(host: index))
            return
        }
        schedule(after: .milliseconds(100), .watchdogCheck(host: index, boot: boot))
    }

    // MARK: - Invariants

    func check() {
        for vm in vmNames {
            let copies = hosts.filter { $0.power != .down && $0.running[vm] != nil }
            if copies.count > 1 {
                violate("\(vm) runs on \(copies.map(\.name).joined(separator: " and ")) at once")
            }
        }
        guard let crash = timedCrash else { return }
        let down = hosts[crash.host].name
        // Running once on a live host again (the crashed one too, once it is back).
        let recovered = crash.vms.allSatisfy { vm in hosts.filter { $0.power == .up && $0.running[vm] != nil }.count == 1 }
        if recovered {
            if !crash.spoiled, crash.fault == .crash { recoveries.append(now - crash.at) }
            timedCrash = nil
        } else if !crash.spoiled, now - crash.at > crash.bound {
            violate("the VMs of \(down) (\(crash.vms.sorted().joined(separator: ", "))) did not all run again within \(crash.bound) after \(crash.fault.rawValue)")
        }
    }

    /// What the timings promise after a guest died and libvirtd hung in the start that follows:
    /// the start's deadline, `hypervisorHang`, the watchdog, then a crash's bound.
    public var hangBound: Duration {
        config.callTimeout + (config.timings.hypervisorHang ?? .zero) + config.timings.watchdogTimeout + tickInterval * 2 + recoveryBound
    }

    /// What the timings promise after a crash, with a quorum and room: an election and the TTL
    /// (the leader renews every lease), the expiry check, the guard, two start attempts.
    public var recoveryBound: Duration {
        let t = config.timings
        return (t.leaseTTL * 1.02) + config.electionTimeout * 2 + .milliseconds(1000) + t.guardTime
            + .seconds(2) * 1 + (t.startRetry + .milliseconds(Int64(max(config.startLatency.upperBound, config.slowStartLatency.upperBound) * 1000))) * 3
    }
}
