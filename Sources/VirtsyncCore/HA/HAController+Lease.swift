/// The lease: the join (one lease id for every attempt, the member key only where it is free),
/// renewals counted from their send, the fence at the own deadline, and the old lease given back
/// once nothing runs here (decision records 0008 and 0009).
extension HAController {
    /// How long the lease is still valid at `now` (zero without one).
    func leaseLeft(at now: Duration) -> Duration {
        guard case .held(_, let validUntil) = lease else { return .zero }
        return !safety.selfFence ? .seconds(1_000_000) : max(.zero, validUntil - now)
    }

    /// Whether the watchdog may be petted at `now`: while the lease is valid, and no later than
    /// `validUntil + margin + guard - watchdogTimeout`, so that a host that stops petting resets
    /// before any other host may start its VMs (the lease expires in etcd no sooner than
    /// `validUntil + margin`, and the others wait `guard` after that). When the watchdog's
    /// timeout is longer than the margin and the guard, the last pets come before the deadline:
    /// a host alive whose stops hang (libvirt hung, QEMU stuck in I/O) is reset in time, where
    /// petting up to the deadline left it running for `watchdogTimeout - margin - guard` after
    /// the others took over (found by the simulation's libvirt hangs).
    func mayPet(at now: Duration) -> Bool {
        guard safety.selfFence, case .held(_, let validUntil) = lease else { return true }
        return now <= validUntil + timings.margin + guardTime - timings.watchdogTimeout
    }

    /// The lease id while it is valid at `now`.
    public func validLease(at now: Duration) -> Int64? {
        guard case .held(let id, let validUntil) = lease, now < validUntil || !safety.selfFence else { return nil }
        return id
    }

    mutating func applyLease(_ event: HAEvent, now: Duration, into commands: inout [HACommand]) {
        switch event {
        case .leaseGranted(let id, let sentAt):
            guard let join = joining, join.id == id else {
                // An answer to a join given up on (its lease holds no member key of this host
                // unless it is the current join's, so it only expires).
                log(now, "lease \(id) granted after its join was given up; left to expire")
                return
            }
            joining = nil
            grantSentAt = nil
            fencedLease = nil
            fencedSinceJoin = false
            // etcd counts the TTL from when it granted the lease: not before the first attempt
            // of this join was sent, whichever attempt's answer this is.
            let base = safety.deadlineFromSend ? min(sentAt, join.since) : now
            let validUntil = base + timings.leaseTTL - timings.margin
            if validUntil > now {
                lease = .held(id: id, validUntil: validUntil)
                renewSentAt = sentAt
                log(now, "lease \(id) granted")
                commands.append(.persist(HAPersisted(lease: id, validUntil: validUntil)))
            } else {
                lease = .confirming(id: id)
                renewSentAt = nil
                log(now, "lease \(id) granted after \(now - join.since) of attempts; renewing it before it counts")
            }
        case .leaseGrantFailed:
            // Asked again one renew interval after this grant was sent, not on the next tick.
            if case .none = lease { lease = .none(requested: false) }
            grantFailedAt = grantSentAt ?? now
            grantSentAt = nil
        case .leaseIDTaken(let id):
            guard joining?.id == id else { return }
            log(now, "lease id \(id) is taken; the next attempt asks for another")
            joining = nil
            if case .none = lease { lease = .none(requested: false) }
            grantSentAt = nil
        case .leaseRenewed(let id, let sentAt):
            if case .confirming(let confirming) = lease, confirming == id {
                let validUntil = (safety.deadlineFromSend ? sentAt : now) + timings.leaseTTL - timings.margin
                guard validUntil > now else { return }
                lease = .held(id: id, validUntil: validUntil)
                log(now, "lease \(id) confirmed by a renewal")
                commands.append(.persist(HAPersisted(lease: id, validUntil: validUntil)))
                return
            }
            guard case .held(let held, let validUntil) = lease, held == id else { return }
            let renewed = max(validUntil, (safety.deadlineFromSend ? sentAt : now) + timings.leaseTTL - timings.margin)
            lease = .held(id: id, validUntil: renewed)
            if renewed != validUntil { commands.append(.persist(HAPersisted(lease: id, validUntil: renewed))) }
        case .leaseGone(let id):
            if case .confirming(let confirming) = lease, confirming == id {
                lease = .none(requested: false)
                renewSentAt = nil
                return
            }
            guard case .held(let held, _) = lease, held == id else { return }
            fence(now: now, cause: .leaseGone, into: &commands)
        default:
            break
        }
    }

    mutating func maintainLease(now: Duration, into commands: inout [HACommand]) {
        // Fenced for a silent libvirt: no lease again until the watchdog has reset the host.
        if hypervisorFenced { return }
        switch lease {
        case .none(let requested):
            // After a fence, no new lease while a copy may still run here: a stop that hangs
            // (libvirt hung, QEMU stuck in I/O) must not let this host pet its watchdog again
            // while the others take the VM over (found by the simulation's libvirt hangs).
            if fenceUnsettled { return }
            if let failed = grantFailedAt, now - failed < timings.renewInterval { return }
            if !requested || grantSentAt.map({ now - $0 >= timings.leaseTTL }) == true {
                grantFailedAt = nil
                lease = .none(requested: true)
                grantSentAt = now
                let join = joining ?? (leaseIDs.next(), now)
                commands.append(.grantLease(id: join.id, retry: joining != nil, replacing: quietFencedLease))
                joining = join
            }
        case .confirming(let id), .held(let id, _):
            // One renewal per interval, answered or not: an unanswered one is not waited for.
            if renewSentAt.map({ now - $0 >= timings.renewInterval }) ?? true {
                renewSentAt = now
                commands.append(.renewLease(id: id))
            }
        }
    }

    /// This host fenced and an HA VM may still run here: a stop, a start or a live migration is
    /// in flight, a start went unanswered, or a copy is seen running.
    var fenceUnsettled: Bool {
        guard fencedSinceJoin else { return false }
        return !pendingStops.isEmpty || !pendingStarts.isEmpty || !unresolvedStarts.isEmpty || !movesInFlight.isEmpty
            || haNames.contains { local[$0]?.running == true }
    }

    /// The lease fenced from, once every HA VM here is known stopped, and no start or live
    /// migration is in flight: safe to give back.
    var quietFencedLease: Int64? {
        guard let fencedLease, localKnown, pendingStops.isEmpty, pendingStarts.isEmpty, unresolvedStarts.isEmpty, movesInFlight.isEmpty,
              !haNames.contains(where: { local[$0]?.running == true }) else { return nil }
        return fencedLease
    }

    mutating func fence(now: Duration, cause: HAStopCause, into commands: inout [HACommand]) {
        if case .held(let id, _) = lease {
            let why = switch cause {
            case .leaseGone: "is gone"
            case .hypervisorHang: "given up: libvirt has not answered for \(silentSince.map { now - $0 } ?? .zero)"
            default: "not renewed by its deadline"
            }
            log(now, "fencing: lease \(id) \(why); stopping every HA VM here")
            fencedLease = cause == .leaseGone ? nil : id
        }
        lease = .none(requested: false)
        fencedSinceJoin = true
        grantSentAt = nil
        renewSentAt = nil
        pendingClaims = []
        // Starts in flight stay tracked: one that completes after the fence is stopped at once
        // (rule 2), and the fenced lease is not given back while one may still complete (found
        // by the simulation: a slow start came up after the lease was given back and the VM
        // taken over).
        pendingTakeovers = [:]
        handoverStopped = []
        commands.append(.persist(nil))
        for name in haNames.sorted() where local[name]?.running == true && !pendingStops.contains(name) {
            stop(name, cause: cause, now: now, into: &commands)
        }
    }
}
