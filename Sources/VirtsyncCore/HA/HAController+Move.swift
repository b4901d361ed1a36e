/// Rule 5 of `HAController`: live migrations of HA VMs, in three writes of the owner record.
///
/// 1. `beginMove`: the owner (this host, lease valid, its copy running under the record) marks
///    the record as moving to a target that holds a lease. The record still names the owner; the
///    target now accepts the copy that arrives (rule 2) and nobody starts the VM anywhere.
/// 2. libvirt migrates the VM (the agent's executor, between the two calls).
/// 3. `finishMove`: from a fresh read of this host's libvirt, the owner names the target (the
///    copy left) or itself again (the copy stayed; the target's libvirt dropped the arriving one).
///
/// When step 3 is not recorded (the agent restarted, etcd could not be written), the owner
/// stops its copy (a hard stop of a domain that may be gone already) and only then names the
/// target: the one order that cannot leave two copies running, whichever view was stale. When
/// the owner dies mid-move, the target alone takes the VM over (keeping the arriving copy if it
/// runs); when both die, the VM is placed anew once both leases are gone.
extension HAController {
    /// Why the VM cannot move from this host to `target` by live migration now (nil: it can).
    /// A `failback` (a pinned VM going home) also waits until the target has held its lease for
    /// `timings.failbackSettle`.
    public func moveBlocked(_ vm: String, to target: String, failback: Bool, now: Duration) -> String? {
        guard let lease = validLease(at: now) else { return "this host holds no valid HA lease" }
        guard membersKnown, ownersKnown, localKnown else { return "HA has not read the cluster and this host yet" }
        guard let record = owners[vm] else { return "\(vm) has no owner record yet" }
        guard record.host == host, record.lease == lease else { return "\(vm) is owned by \(record.host), not by this host's lease" }
        if record.moving != nil || movesInFlight.contains(vm) { return "a move of \(vm) is already in flight" }
        if pendingClaims.contains(vm) || pendingStops.contains(vm) || pendingStarts.contains(vm) || pendingMarks.contains(vm) {
            return "HA is busy with \(vm)"
        }
        guard let copy = local[vm], copy.running, record.accepts(copyEpoch: copy.epoch) else {
            return "\(vm) does not run here under its owner record"
        }
        guard target != host else { return "\(vm) already runs on \(target)" }
        guard let member = memberSince[target], members[target] == member.lease else {
            return "\(target) holds no HA lease (down, cut off, or its agent runs without HA)"
        }
        if failback, now - member.since < timings.failbackSettle {
            return "failback waits until \(target) has held its HA lease for \(timings.failbackSettle) (\(now - member.since) so far)"
        }
        return nil
    }

    /// How long `host` has held the lease it holds now, as this host has seen it (nil: no lease).
    public func memberFor(_ host: String, at now: Duration) -> Duration? {
        guard let member = memberSince[host], members[host] == member.lease else { return nil }
        return now - member.since
    }

    /// Step 1 of a move of `vm` to `target`: the write that marks the record as moving. The caller
    /// writes it with the coordinator, reports `claimed` or `claimLost`, migrates only after a
    /// `claimed`, then calls `finishMove` and reports `moveEnded` whatever happened.
    public mutating func beginMove(_ vm: String, to target: String, now: Duration) throws(HAMoveRefusal) -> HAClaim {
        if let why = moveBlocked(vm, to: target, failback: false, now: now) { throw HAMoveRefusal(reason: why) }
        guard let record = owners[vm], let lease = validLease(at: now), let targetLease = members[target] else {
            throw HAMoveRefusal(reason: "the view changed")
        }
        pendingClaims.insert(vm)
        movesInFlight.insert(vm)
        log(now, "moving \(vm) (epoch \(record.epoch)) to \(target) by live migration: marking its owner record")
        return HAClaim(expectedEpoch: record.epoch, previousOwner: nil, previousLease: nil, lease: lease,
                       carried: local[vm]?.epoch ?? 0, moving: HAMove(to: target, lease: targetLease))
    }

    /// Step 3: the write that records where the VM is after the migration, from `runsHere` (read
    /// from libvirt after the migration ended); nil when there is nothing this host may write
    /// (the record changed, or the lease is no longer valid: the others settle it).
    public mutating func finishMove(_ vm: String, runsHere: Bool, now: Duration) -> HAClaim? {
        guard let record = owners[vm], record.host == host, let moving = record.moving, let lease = validLease(at: now),
              record.lease == lease else { return nil }
        pendingClaims.insert(vm)
        if runsHere {
            log(now, "\(vm) still runs here: taking its owner record back from the move to \(moving.to)")
            return HAClaim(expectedEpoch: record.epoch, previousOwner: nil, previousLease: nil, lease: lease, carried: record.carried)
        }
        log(now, "\(vm) left for \(moving.to): handing its owner record over (epoch \(record.epoch))")
        return HAClaim(expectedEpoch: record.epoch, previousOwner: host, previousLease: nil, lease: moving.lease, host: moving.to,
                       carried: record.carried)
    }

    /// A record that says a move is in flight, seen by any host with a valid lease: settles it
    /// when its owner is not migrating it now. True when the VM must be placed anew (the owner and
    /// the target both lost their leases, for the guard time).
    mutating func settleMove(_ name: String, record: OwnerRecord, lease: Int64, now: Duration, into commands: inout [HACommand]) -> Bool {
        guard let moving = record.moving else { return false }
        if record.host == host && record.lease == lease {
            guard !movesInFlight.contains(name), !pendingClaims.contains(name) else { return false }
            // The outcome was not recorded: this copy stops first, whatever the view says.
            guard handoverStopped.contains(name) else {
                if !pendingStops.contains(name) { stop(name, cause: .handover, now: now, into: &commands) }
                return false
            }
            if members[moving.to] == moving.lease {
                claim(name, HAClaim(expectedEpoch: record.epoch, previousOwner: host, previousLease: nil, lease: moving.lease,
                                    host: moving.to, carried: record.carried),
                      now: now, why: "its move to \(moving.to) ended unrecorded; the copy here is stopped, the target takes it", into: &commands)
            } else if let since = goneSince["\(moving.to)#\(moving.lease)"], now - since >= guardTime {
                claim(name, HAClaim(expectedEpoch: record.epoch, previousOwner: nil, previousLease: nil, lease: lease,
                                    gone: [moving.to: moving.lease]),
                      now: now, why: "its move to \(moving.to) ended unrecorded and \(moving.to) lost its lease", into: &commands)
            }
            return false
        }
        // The owner's lease: alive, it settles the move itself.
        if members[record.host] == record.lease { return false }
        guard let since = goneSince["\(record.host)#\(record.lease)"], now - since >= guardTime else { return false }
        if members[moving.to] == moving.lease {
            // The target lives: it alone takes the VM, keeping the copy that arrived if it runs.
            guard moving.to == host, moving.lease == lease, !pendingClaims.contains(name) else { return false }
            let copy = local[name]
            let arrived = copy?.running == true && record.accepts(copyEpoch: copy?.epoch)
            if !arrived { pendingTakeovers[name] = (record.host, since) }
            claim(name, HAClaim(expectedEpoch: record.epoch, previousOwner: record.host, previousLease: record.lease, lease: lease,
                                carried: arrived ? (copy?.epoch ?? 0) : nil),
                  now: now, why: "its owner \(record.host) (epoch \(record.epoch)) lost its lease while moving it here", into: &commands)
            return false
        }
        guard let targetSince = goneSince["\(moving.to)#\(moving.lease)"], now - targetSince >= guardTime else { return false }
        return true
    }
}

/// Why `HAController.beginMove` refused a move.
public struct HAMoveRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { reason }
}
