/// The HA logic of one agent, as a pure state machine: events in (time, lease results, the
/// members, owner records and local domains seen, the spec), commands out (grant and renew the
/// lease, pet the watchdog, claim, start, stop). The agent's adapters carry the commands out over
/// etcd, libvirt and the watchdog; the HA simulator drives this same code with model ones.
///
/// The rules, in the order they protect against two running copies (DESIGN §8, notes/HA.md):
///
/// 1. **Fence by the own deadline.** The lease is valid until `sent + leaseTTL - margin` of the
///    last acknowledged renewal, on this host's monotonic clock. At that instant (or when etcd says
///    the lease is gone) every running HA VM here is stopped, the watchdog is no longer petted and
///    nothing is claimed or started until a new lease is held.
/// 2. **Run only what this host owns now.** A running HA VM stays only while its owner record
///    names this host, under the lease it holds, with the epoch in the domain's marker. Another
///    owner, an older epoch or an older lease of this host stops it at once.
/// 3. **Take over only a dead owner's VMs, by a conditional claim.** When the owner's lease has
///    been gone for `guardTime`, every live host computes the same placement (the pure
///    `Placement` function over the live hosts); the chosen host claims the VM with a transaction
///    that succeeds only if the record is unchanged and the old lease is still gone. The winner's
///    epoch (the transaction's revision) goes into the marker when it starts the VM.
/// 4. **A VM never owned yet** is claimed by the host the spec's own placement assigns it to, or
///    by the host where it already runs (the running copy is kept: the record carries its epoch,
///    and the new one is written into its marker).
/// 6. **A host whose libvirt does not answer gives its VMs up** (`HAController+Hang.swift`): when
///    an HA VM it owns is down (or of unknown power) and libvirt has given no answer for
///    `hypervisorHang`, a host with a watchdog fences itself for good (no lease, no pets), so the
///    watchdog resets it and the others take its VMs over; without a watchdog it only says so.
/// 5. **A live migration hands the record over** (`HAController+Move.swift`): the owner marks
///    the record as moving to a live target before libvirt moves the VM, the target accepts the
///    arriving copy, and the owner then names the target as owner (or itself again, when the copy
///    stayed). A move whose outcome was not recorded is settled by stopping the owner's copy first.
///
/// Nothing here reads a clock or does I/O: `now` comes with each event.
public struct HAController: Sendable {
    /// The lease as this host knows it.
    public enum LeaseState: Hashable, Sendable {
        /// None held; `requested` while a grant is in flight.
        case none(requested: Bool)
        /// Granted, but with no deadline yet: the join took more than one attempt and it went on
        /// so long that the first attempt's send plus the TTL has passed. A renewal gives the
        /// deadline; until then the lease is not valid.
        case confirming(id: Int64)
        /// Held and valid until `validUntil` (monotonic).
        case held(id: Int64, validUntil: Duration)
    }

    public let host: String
    public let timings: HATimings
    /// The safety measures in force: always `.full`, except in the simulator's broken variants.
    public let safety: HASafety
    /// Whether a watchdog resets this host when it stops petting it (rule 6 fences only then).
    public let watchdog: Bool
    public internal(set) var lease: LeaseState
    public private(set) var members: [String: Int64] = [:]
    public private(set) var owners: [String: OwnerRecord] = [:]
    public private(set) var local: [String: HALocalDomain] = [:]
    public private(set) var spec: HASpec
    /// Decisions worth a log line since the last `takeDecisions()`.
    public private(set) var decisions: [HADecision] = []
    /// Takeovers finished on this host since the last `takeRecoveries()`.
    public private(set) var recoveries: [HARecovery] = []

    var membersKnown = false
    var ownersKnown = false
    var localKnown = false
    var grantSentAt: Duration?
    /// The join under way: the lease id every attempt asks for, and when the first was sent.
    var joining: (id: Int64, since: Duration)?
    var leaseIDs: HALeaseIDs
    /// The lease this host fenced from by its own deadline: etcd may still hold it (and the
    /// member key on it) for up to the margin, or a full TTL after a leader change. Revoked with
    /// the next join once nothing runs here.
    var fencedLease: Int64?
    var grantFailedAt: Duration?
    var renewSentAt: Duration?
    /// When this host first saw each `host#lease` gone from the members.
    var goneSince: [String: Duration] = [:]
    /// Since when this host has seen each member with the lease it holds now.
    var memberSince: [String: (lease: Int64, since: Duration)] = [:]
    /// When this host first saw each spec host absent from the members (for "known dead").
    private var absentSince: [String: Duration] = [:]
    var pendingClaims: Set<String> = []
    var pendingStops: Set<String> = []
    var pendingStarts: Set<String> = []
    var pendingMarks: Set<String> = []
    /// Claims lost, with when and against which epoch: not sent again before `claimRetry` unless
    /// the record changed (a claim that keeps failing must not hammer etcd on every event).
    var lostClaims: [String: (at: Duration, epoch: Int64?)] = [:]
    /// Live migrations away from this host in flight (between `beginMove` and `moveEnded`).
    var movesInFlight: Set<String> = []
    /// Moves whose outcome was not recorded, whose copy here has been stopped: ready to hand over.
    var handoverStopped: Set<String> = []
    var failedStarts: [String: Duration] = [:]
    /// Since when libvirt has given HA no answer (nil: it answered the last call).
    var silentSince: Duration?
    /// Which HA VMs' QEMU processes run here, read while libvirt is silent; cleared when it answers.
    var processes: [String: Bool] = [:]
    /// Starts that got no answer and may still complete: the fenced lease is not given back while one may.
    var unresolvedStarts: Set<String> = []
    /// This host fenced since it last joined: no new lease until nothing may run here.
    var fencedSinceJoin = false
    /// Rule 6 fenced this host: it takes no lease again and leaves the rest to its watchdog.
    public internal(set) var hypervisorFenced = false
    /// Rule 6 said once, for this silence, that it cannot fence without a watchdog.
    var silenceReported = false
    /// Takeovers claimed by this host and not yet running: the previous owner and when this host
    /// first saw its lease gone.
    var pendingTakeovers: [String: (from: String, goneSince: Duration)] = [:]

    /// A controller for `host`. `resumed` is what the previous run of the agent persisted: while
    /// its deadline has not passed, the lease is taken as held (and renewed at once); after it,
    /// the host fences as soon as it sees its domains.
    public init(host: String, timings: HATimings = HATimings(), spec: HASpec = HASpec(), resumed: HAPersisted? = nil, now: Duration,
                safety: HASafety = .full, leaseIDs: HALeaseIDs = HALeaseIDs(), watchdog: Bool = false) {
        self.host = host
        self.leaseIDs = leaseIDs
        self.timings = timings
        self.safety = safety
        self.watchdog = watchdog
        self.spec = spec
        if let resumed, now < resumed.validUntil {
            lease = .held(id: resumed.lease, validUntil: resumed.validUntil)
        } else {
            lease = .none(requested: false)
        }
    }

    /// How soon a lost claim may be sent again against an unchanged record.
    var claimRetry: Duration { min(.milliseconds(500), timings.renewInterval / 2) }

    /// How long a lease must have been seen gone before a claim (zero in the variant without a guard).
    var guardTime: Duration { safety.guardTime ? timings.guardTime : .zero }

    /// Spec hosts this host knows to be dead at `now`: absent from the members for at least
    /// `guardTime` (their lease expired, so they fenced or were reset). Not "unknown": new VMs
    /// may be placed elsewhere.
    public func deadHosts(at now: Duration) -> Set<String> {
        guard membersKnown, validLease(at: now) != nil else { return [] }
        return Set(absentSince.filter { now - $0.value >= timings.guardTime }.keys)
    }

    /// The decisions since the last call, oldest first.
    public mutating func takeDecisions() -> [HADecision] {
        defer { decisions = [] }
        return decisions
    }

    /// The takeovers finished since the last call, oldest first.
    public mutating func takeRecoveries() -> [HARecovery] {
        defer { recoveries = [] }
        return recoveries
    }

    /// Applies `event` at `now` and returns what to do, in order.
    public mutating func handle(_ event: HAEvent, now: Duration) -> [HACommand] {
        var commands: [HACommand] = []
        apply(event, now: now, into: &commands)
        evaluate(now: now, into: &commands)
        return commands
    }

    // MARK: - Events

    private mutating func apply(_ event: HAEvent, now: Duration, into commands: inout [HACommand]) {
        switch event {
        case .tick:
            break
        case .leaseGranted, .leaseGrantFailed, .leaseIDTaken, .leaseRenewed, .leaseGone:
            applyLease(event, now: now, into: &commands)
        case .members(let alive):
            members = alive
            membersKnown = true
            memberSince = memberSince.filter { alive[$0.key] == $0.value.lease }
            for (name, lease) in alive where memberSince[name] == nil { memberSince[name] = (lease, now) }
        case .owners(let records):
            owners = records
            ownersKnown = true
            // A claim is done once the record names this host under the lease it holds now (an
            // older record naming this host under a lease gone is what it is claiming from).
            var held: Int64?
            if case .held(let id, _) = lease { held = id }
            pendingClaims = pendingClaims.filter { name in
                guard let record = records[name] else { return true }
                return !(record.host == host && record.lease == held) || movesInFlight.contains(name)
            }
            handoverStopped = handoverStopped.filter { records[$0]?.moving != nil && records[$0]?.host == host }
        case .localDomains(let domains):
            local = domains
            localKnown = true
            libvirtAnswered()
            unresolvedStarts = []
            pendingStops = pendingStops.filter { domains[$0]?.running == true }
        case .spec(let spec):
            self.spec = spec
        case .claimed(let vm, let record):
            pendingClaims.remove(vm)
            owners[vm] = record
            if let moving = record.moving {
                log(now, "owner record of \(vm) marks its move to \(moving.to) (epoch \(record.epoch))")
            } else if record.host != host {
                log(now, "owner record of \(vm) handed over to \(record.host) (epoch \(record.epoch))")
            } else {
                log(now, "claimed \(vm) with epoch \(record.epoch)")
            }
        case .claimLost(let vm):
            pendingClaims.remove(vm)
            pendingTakeovers[vm] = nil
            lostClaims[vm] = (now, owners[vm]?.epoch)
            log(now, "claim of \(vm) lost")
        case .libvirtUnanswered(let vm):
            libvirtUnanswered(vm, now: now)
        case .processesSeen(let seen):
            // Only what the silence leaves unknown: an answer from libvirt is the truth again.
            if silentSince != nil { processes = seen }
        case .startFinished(let vm, let epoch, let succeeded):
            pendingStarts.remove(vm)
            unresolvedStarts.remove(vm)
            libvirtAnswered()
            if succeeded {
                local[vm] = HALocalDomain(running: true, epoch: epoch)
                failedStarts[vm] = nil
                if let takeover = pendingTakeovers.removeValue(forKey: vm) {
                    recoveries.append(HARecovery(vm: vm, from: takeover.from, epoch: epoch, leaseGoneAt: takeover.goneSince, runningAt: now))
                    log(now, "\(vm) runs here with epoch \(epoch), \(now - takeover.goneSince) after the lease of \(takeover.from) was seen gone")
                }
            } else {
                failedStarts[vm] = now
                log(now, "start of \(vm) with epoch \(epoch) failed; trying again in \(timings.startRetry)")
            }
        case .stopFinished(let vm, let succeeded):
            pendingStops.remove(vm)
            if succeeded {
                libvirtAnswered()
                local[vm]?.running = false
                if owners[vm]?.moving != nil, owners[vm]?.host == host, !movesInFlight.contains(vm) { handoverStopped.insert(vm) }
            }
        case .markFinished(let vm, let epoch, let succeeded):
            pendingMarks.remove(vm)
            if succeeded, local[vm]?.running == true {
                local[vm]?.epoch = epoch
                log(now, "\(vm) carries epoch \(epoch) in its marker")
            }
        case .moveEnded(let vm):
            movesInFlight.remove(vm)
            pendingClaims.remove(vm)
        }
    }

    // MARK: - Rules

    private mutating func evaluate(now: Duration, into commands: inout [HACommand]) {
        // Rule 1: the own deadline.
        if safety.selfFence, case .held(_, let validUntil) = lease, now >= validUntil {
            fence(now: now, cause: .leaseDeadline, into: &commands)
        }
        // Rule 6: libvirt silent while an owned HA VM is down.
        giveUpOnSilence(now: now, into: &commands)
        maintainLease(now: now, into: &commands)
        trackAbsences(now: now)
        let valid = validLease(at: now)
        if valid != nil, mayPet(at: now) { commands.append(.petWatchdog) }
        guard localKnown else { return }
        // Rule 2: run only what this host owns now.
        for name in haNames.sorted() {
            guard let domain = local[name], domain.running, !pendingStops.contains(name) else { continue }
            if let cause = stopCause(name, domain: domain, lease: valid) {
                stop(name, cause: cause, now: now, into: &commands)
            }
        }
        guard let valid, ownersKnown, membersKnown else { return }
        claimAndStart(lease: valid, now: now, into: &commands)
    }

    /// Why a running HA VM must stop here, if it must.
    private func stopCause(_ name: String, domain: HALocalDomain, lease: Int64?) -> HAStopCause? {
        guard ownersKnown else { return nil }
        guard let record = owners[name] else {
            // Never owned: nobody else can start it without a record; it is claimed below.
            return nil
        }
        guard record.host == host else {
            // The copy a live migration brings here, while the owner has not handed over yet.
            if let moving = record.moving, moving.to == host, let lease, moving.lease == lease,
               record.accepts(copyEpoch: domain.epoch) {
                return nil
            }
            return .notOwner
        }
        if !safety.epochCheck { return nil }
        guard let lease, record.lease == lease else { return .staleLease }
        if record.accepts(copyEpoch: domain.epoch) { return nil }
        // Claimed again under this lease while an older copy runs (or one without an epoch).
        return .staleEpoch
    }

    private mutating func claimAndStart(lease: Int64, now: Duration, into commands: inout [HACommand]) {
        let machines = spec.machines.filter(\.shouldRun)
        var takeovers: [HAMachine] = []
        for machine in machines {
            let name = machine.name
            guard !pendingClaims.contains(name) else { continue }
            if let lost = lostClaims[name] {
                if now - lost.at < claimRetry && lost.epoch == owners[name]?.epoch { continue }
                lostClaims[name] = nil
            }
            guard let record = owners[name] else {
                // Rule 4: first owner. A copy that runs here keeps running: the record carries its epoch.
                let runsHere = local[name]?.running == true
                if runsHere || spec.assigned[name] == host {
                    let carried = runsHere ? (local[name]?.epoch ?? 0) : nil
                    claim(name, HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: lease, carried: carried), now: now,
                          why: runsHere ? "runs here and has no owner" : "assigned here by the spec's placement", into: &commands)
                }
                continue
            }
            if record.moving != nil {
                // Rule 5: a live migration, in flight or to be settled.
                if settleMove(name, record: record, lease: lease, now: now, into: &commands) { takeovers.append(machine) }
                continue
            }
            if record.host == host && record.lease == lease {
                // Ours: make it run, with the record's epoch in its marker.
                if let copy = local[name], copy.running, record.accepts(copyEpoch: copy.epoch), copy.epoch != record.epoch,
                   !pendingMarks.contains(name), !pendingStops.contains(name) {
                    pendingMarks.insert(name)
                    commands.append(.mark(vm: name, epoch: record.epoch))
                }
                let running = local[name]?.running == true && record.accepts(copyEpoch: local[name]?.epoch)
                let retryAt = failedStarts[name].map { $0 + timings.startRetry }
                if !running, !pendingStarts.contains(name), !pendingStops.contains(name), local[name]?.running != true,
                   retryAt.map({ now >= $0 }) ?? true, leaseLeft(at: now) >= timings.startWindow {
                    pendingStarts.insert(name)
                    commands.append(.start(vm: name, epoch: record.epoch))
                    log(now, "starting \(name) with epoch \(record.epoch)")
                }
                continue
            }
            // Rule 3: is the owner's lease gone, and for long enough?
            if members[record.host] == record.lease { continue }
            let key = "\(record.host)#\(record.lease)"
            guard let since = goneSince[key], now - since >= guardTime else { continue }
            takeovers.append(machine)
        }
        guard !takeovers.isEmpty else { return }
        let targets = failoverPlacement(takeovers)
        for machine in takeovers {
            guard targets[machine.name] == host, let record = owners[machine.name] else { continue }
            pendingTakeovers[machine.name] = (record.host, goneSince["\(record.host)#\(record.lease)"] ?? now)
            // A move's target that died too must be gone as well: a copy may have arrived there.
            let gone = record.moving.map { [$0.to: $0.lease] } ?? [:]
            claim(machine.name, HAClaim(expectedEpoch: record.epoch, previousOwner: record.host, previousLease: record.lease, lease: lease,
                                        gone: gone),
                  now: now, why: "its owner \(record.host) (epoch \(record.epoch)) lost its lease", into: &commands)
        }
    }

    /// Where the VMs of dead owners go: the pure placement over the live hosts not in
    /// maintenance, with every VM that still runs on a live host staying there (taking its
    /// capacity) and pins to dead hosts dropped. Every live host computes the same answer from
    /// the same view.
    func failoverPlacement(_ moving: [HAMachine]) -> [String: String] {
        let live = Set(members.keys)
        let hosts = spec.hosts.filter { live.contains($0.name) }
        let movingNames = Set(moving.map(\.name))
        var requests: [PlacementRequest] = []
        var current: [String: CurrentPlacement] = [:]
        for machine in spec.machines where machine.shouldRun {
            if movingNames.contains(machine.name) {
                var request = machine.request
                if let pinned = request.rule.pinned, !live.contains(pinned) { request.rule.pinned = nil }
                requests.append(request)
            } else if let record = owners[machine.name], members[record.host] == record.lease {
                requests.append(machine.request)
                current[machine.name] = CurrentPlacement(host: record.host)
            }
        }
        for other in spec.others {
            guard let host = spec.assigned[other.name], live.contains(host) else { continue }
            requests.append(other)
            current[other.name] = CurrentPlacement(host: host)
        }
        let result = Placement.place(PlacementInput(hosts: hosts, requests: requests, current: current))
        var targets: [String: String] = [:]
        for name in movingNames {
            if let decision = result.decisions[name] { targets[name] = decision.host }
        }
        return targets
    }

    // MARK: - Helpers

    var haNames: Set<String> { Set(spec.machines.map(\.name)) }

    mutating func trackAbsences(now: Duration) {
        guard membersKnown else { return }
        // Owners, and the targets of moves: the host#lease pairs a takeover may wait on.
        var held = owners.values.map { ($0.host, $0.lease) }
        held += owners.values.compactMap { $0.moving.map { ($0.to, $0.lease) } }
        for (holder, lease) in held where members[holder] != lease {
            let key = "\(holder)#\(lease)"
            if goneSince[key] == nil { goneSince[key] = now }
        }
        let liveKeys = Set(held.filter { members[$0.0] == $0.1 }.map { "\($0.0)#\($0.1)" })
        goneSince = goneSince.filter { !liveKeys.contains($0.key) }
        for spec in spec.hosts {
            if members[spec.name] == nil {
                if absentSince[spec.name] == nil { absentSince[spec.name] = now }
            } else {
                absentSince[spec.name] = nil
            }
        }
    }

    /// The lease fenced from, once every HA VM here is known stopped: safe to give back.
    mutating func stop(_ name: String, cause: HAStopCause, now: Duration, into commands: inout [HACommand]) {
        pendingStops.insert(name)
        commands.append(.stop(vm: name, cause: cause))
        let epoch = local[name]?.epoch.map { " (epoch \($0))" } ?? ""
        let owner = owners[name].map { "; owner \($0.host), epoch \($0.epoch)" } ?? ""
        log(now, "stopping \(name)\(epoch): \(cause.rawValue)\(owner)")
    }

    mutating func claim(_ name: String, _ claim: HAClaim, now: Duration, why: String, into commands: inout [HACommand]) {
        pendingClaims.insert(name)
        commands.append(.claim(vm: name, claim))
        log(now, "claiming \(name): \(why)")
    }

    mutating func log(_ now: Duration, _ text: String) {
        decisions.append(HADecision(at: now, text: text))
    }
}
