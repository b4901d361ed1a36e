/// The values the HA state machine (`HAController`) works with. Instants are offsets on a
/// monotonic clock (`CLOCK_MONOTONIC`: system-wide, so it survives a restart of the agent, never
/// jumps with the wall clock); durations are Swift `Duration`s.

/// The HA timings of a cluster (agent configuration `ha`; DESIGN §8, notes/HA.md).
///
/// The order that makes a takeover safe: an agent stops its HA VMs by `leaseTTL - margin` after
/// it *sent* its last acknowledged renewal; its watchdog resets the host by then if the agent
/// cannot; etcd expires the lease no earlier than `leaseTTL` after it *received* that renewal;
/// another host waits `guardTime` more after it sees the lease gone.
public struct HATimings: Hashable, Sendable, Codable {
    /// The lease's time to live, counted by etcd's leader from each renewal it receives.
    public var leaseTTL: Duration
    /// How long before its lease could expire an agent stops its HA VMs (covers the stop itself
    /// and a clock running up to 1% fast).
    public var margin: Duration
    /// How long a host waits after seeing another's lease gone before it claims that host's VMs.
    public var guardTime: Duration
    /// How long the watchdog waits for a pet before it resets the host; below `leaseTTL - margin`.
    public var watchdogTimeout: Duration
    /// How long a pinned VM's home host must be healthy before the VM goes back (failback).
    public var failbackSettle: Duration
    /// How long to wait before trying a failed start of an owned VM again.
    public var startRetry: Duration
    /// How long libvirt may give HA no answer (a hung or absent libvirtd) while an HA VM this
    /// host owns is down or of unknown power, before a host with a watchdog fences itself so the
    /// others take its VMs over (rule 6). nil: never; the VM then stays down until libvirt answers.
    public var hypervisorHang: Duration?

    /// The defaults: TTL 10 s, margin 2 s, guard 1 s, watchdog 6 s, failback after 60 s healthy,
    /// a fence after libvirt has not answered for 60 s while an owned HA VM is down.
    public init(leaseTTL: Duration = .seconds(10), margin: Duration = .seconds(2), guardTime: Duration = .seconds(1),
                watchdogTimeout: Duration = .seconds(6), failbackSettle: Duration = .seconds(60), startRetry: Duration = .seconds(5),
                hypervisorHang: Duration? = .seconds(60)) {
        self.leaseTTL = leaseTTL
        self.margin = margin
        self.guardTime = guardTime
        self.watchdogTimeout = watchdogTimeout
        self.failbackSettle = failbackSettle
        self.startRetry = startRetry
        self.hypervisorHang = hypervisorHang
    }

    /// Renewals are sent every third of the TTL.
    public var renewInterval: Duration { leaseTTL / 3 }

    /// How long the lease must still be valid when HA starts a VM: the first half of each
    /// renewal period. A libvirt start cannot be called back; if the agent then fences, the
    /// copy comes up after the fence and is stopped at once, and the other hosts start the VM
    /// no sooner than the deadline plus the margin plus the guard. So a start is safe when it
    /// takes less than `safeStartLatency` (found by the simulation with slow starts).
    public var startWindow: Duration { leaseTTL - margin - renewInterval / 2 }

    /// The longest a libvirt start may take and still never overlap a takeover elsewhere:
    /// `startWindow + margin + guardTime` (9.3 s with the defaults). Raise the guard for
    /// guests that start slower.
    public var safeStartLatency: Duration { startWindow + margin + guardTime }

    /// The time a renewal has to be answered when etcd's leader dies just before it is due:
    /// `leaseTTL - margin - renewInterval` (a renewal is sent every `renewInterval`, and the
    /// host stops its HA VMs `leaseTTL - margin` after the last answered one was sent).
    public var electionAllowance: Duration { leaseTTL - margin - renewInterval }

    /// What may go wrong with these timings on an etcd whose election timeout is
    /// `electionTimeout` (etcd's `--election-timeout`, 1 s by default), in words: when its
    /// leader's host dies, the others elect a new leader within about twice that, and no lease
    /// is renewed meanwhile. An election longer than `electionAllowance` makes every other host
    /// stop its HA VMs too.
    public func warnings(electionTimeout: Duration) -> [String] {
        guard electionAllowance < electionTimeout * 2 else { return [] }
        return ["leaseTTL - margin - leaseTTL/3 leaves \(electionAllowance.secondsText) for a renewal to be answered, "
                + "and an etcd election after its leader's host died takes up to twice the election timeout "
                + "(\((electionTimeout * 2).secondsText)): every host would stop its HA VMs; "
                + "raise leaseTTL, lower margin, or lower etcd's --election-timeout (and set ha.etcd.electionTimeout to it)"]
    }

    /// What is wrong with these timings, in words (empty when they are safe): the margin must
    /// leave room to renew, the watchdog must fire before the lease can expire for others, and
    /// the TTL must be at least etcd's minimum at default settings (2 s).
    public var problems: [String] {
        var problems: [String] = []
        if leaseTTL < .seconds(2) { problems.append("leaseTTL must be at least 2s (etcd's minimum at default election settings)") }
        if margin <= .zero || margin >= leaseTTL - renewInterval {
            problems.append("margin must be above 0 and below leaseTTL - leaseTTL/3, so a renewal can land before the deadline")
        }
        if watchdogTimeout <= .zero || watchdogTimeout > leaseTTL - margin {
            problems.append("watchdogTimeout must be above 0 and at most leaseTTL - margin, so a hung host is reset before others take over")
        }
        if guardTime < .zero { problems.append("guardTime must not be negative") }
        if let hang = hypervisorHang, hang < .zero { problems.append("hypervisorHang must not be negative") }
        return problems
    }
}

/// Who runs an HA VM now, as recorded in etcd: the host, the epoch of the claim (the etcd
/// revision of the transaction that wrote it: it only grows) and the lease the host held then.
public struct OwnerRecord: Hashable, Sendable, Codable {
    public var host: String
    public var epoch: Int64
    public var lease: Int64
    /// The epoch in the marker of a copy that already ran when this record was written (a live
    /// migration's, or a running VM's first claim; 0: a copy with no epoch in its marker). Such a
    /// copy is accepted on `host` besides one with `epoch`, until its marker is rewritten.
    public var carried: Int64?
    /// A live migration in flight: `host` still owns the VM, and the copy arriving on the target
    /// is accepted there until the owner hands the record over (or takes it back).
    public var moving: HAMove?

    public init(host: String, epoch: Int64, lease: Int64, carried: Int64? = nil, moving: HAMove? = nil) {
        self.host = host
        self.epoch = epoch
        self.lease = lease
        self.carried = carried
        self.moving = moving
    }

    /// Whether a copy whose marker holds `epoch` (nil: none) is the one this record stands for.
    public func accepts(copyEpoch epoch: Int64?) -> Bool {
        let epoch = epoch ?? 0
        return (epoch != 0 && epoch == self.epoch) || (carried != nil && epoch == carried)
    }
}

/// The target of a live migration of an HA VM: the host and the lease it held when the move began.
public struct HAMove: Hashable, Sendable, Codable {
    public var to: String
    public var lease: Int64

    public init(to: String, lease: Int64) {
        self.to = to
        self.lease = lease
    }
}

/// An HA VM as seen in this host's libvirt: running or not, and the epoch in its marker.
public struct HALocalDomain: Hashable, Sendable, Codable {
    public var running: Bool
    /// The epoch written into the domain's ownership marker when it was started; nil when none.
    public var epoch: Int64?

    public init(running: Bool, epoch: Int64? = nil) {
        self.running = running
        self.epoch = epoch
    }
}

/// One HA VM of the spec: its placement request (constraints, size, pin) and whether it should run.
public struct HAMachine: Hashable, Sendable {
    public var request: PlacementRequest
    public var shouldRun: Bool

    public init(request: PlacementRequest, shouldRun: Bool = true) {
        self.request = request
        self.shouldRun = shouldRun
    }

    public var name: String { request.name }
}

/// What the spec says that HA needs: the hosts (labels, capacity, maintenance), the HA VMs, the
/// non-HA VMs' requests (they take capacity), and where the spec's own placement puts each VM
/// that has no owner yet (the host that first claims it).
public struct HASpec: Hashable, Sendable {
    public var hosts: [PlacementHost]
    public var machines: [HAMachine]
    public var others: [PlacementRequest]
    public var assigned: [String: String]

    public init(hosts: [PlacementHost] = [], machines: [HAMachine] = [], others: [PlacementRequest] = [], assigned: [String: String] = [:]) {
        self.hosts = hosts
        self.machines = machines
        self.others = others
        self.assigned = assigned
    }
}

/// What an agent keeps across its own restart so it can resume instead of fencing: its lease and
/// the monotonic deadline until which that lease is known valid.
public struct HAPersisted: Hashable, Sendable, Codable {
    public var lease: Int64
    public var validUntil: Duration

    public init(lease: Int64, validUntil: Duration) {
        self.lease = lease
        self.validUntil = validUntil
    }
}

/// Why the HA logic stops a VM on this host.
public enum HAStopCause: String, Hashable, Sendable, Codable {
    /// The lease could not be renewed by the agent's own deadline (cut off, or etcd lost quorum).
    case leaseDeadline
    /// etcd said the lease is gone.
    case leaseGone
    /// etcd records another host as the owner.
    case notOwner
    /// The copy carries an older epoch than the owner record (a host that came back).
    case staleEpoch
    /// The record names this host under a lease it no longer holds (an agent that restarted
    /// after its lease expired).
    case staleLease
    /// The agent stops on purpose and no watchdog covers the host: it stops its HA VMs and gives
    /// its lease back.
    case released
    /// A live migration away from this host ended without its outcome recorded (the agent
    /// restarted, or etcd could not be written): this copy is stopped so the target may run the VM.
    case handover
    /// libvirt gave no answer for `hypervisorHang` while an HA VM this host owns was down (or of
    /// unknown power): the host fences itself and leaves the rest to its watchdog (rule 6).
    case hypervisorHang
}

/// A conditional write of a VM's owner record: it succeeds only if the record is still what
/// this host saw (`expectedEpoch`, nil: no record yet), the host it names still holds `lease`
/// (its member key is on it), a migration's target still holds its lease, and every previous
/// holder in `previousOwner` and `gone` no longer holds the lease given for it.
public struct HAClaim: Hashable, Sendable, Codable {
    public var expectedEpoch: Int64?
    public var previousOwner: String?
    public var previousLease: Int64?
    /// The lease the record names (the claimant's own, unless `host` names another host).
    public var lease: Int64
    /// The host the record names when it is not the claimant: a live migration's target, to
    /// which the owner hands the record over.
    public var host: String?
    /// See `OwnerRecord.carried`.
    public var carried: Int64?
    /// See `OwnerRecord.moving`.
    public var moving: HAMove?
    /// Other hosts whose member key must no longer be on the given lease (a dead migration target).
    public var gone: [String: Int64]

    public init(expectedEpoch: Int64?, previousOwner: String?, previousLease: Int64?, lease: Int64, host: String? = nil,
                carried: Int64? = nil, moving: HAMove? = nil, gone: [String: Int64] = [:]) {
        self.expectedEpoch = expectedEpoch
        self.previousOwner = previousOwner
        self.previousLease = previousLease
        self.lease = lease
        self.host = host
        self.carried = carried
        self.moving = moving
        self.gone = gone
    }

    /// The record this claim writes for `claimant` at `epoch`.
    public func record(claimant: String, epoch: Int64) -> OwnerRecord {
        OwnerRecord(host: host ?? claimant, epoch: epoch, lease: lease, carried: carried, moving: moving)
    }

    /// The member keys (host to lease) that must be on their lease for the write.
    public func attached(claimant: String) -> [String: Int64] {
        var out = [host ?? claimant: lease]
        if let moving { out[moving.to] = moving.lease }
        return out
    }

    /// The member keys (host to lease) that must no longer be on their lease for the write.
    public var notAttached: [String: Int64] {
        var out = gone
        if let previousOwner, let previousLease, previousLease != 0 { out[previousOwner] = previousLease }
        return out
    }
}

/// What happens to the HA state machine.
public enum HAEvent: Hashable, Sendable {
    /// Time passed (the agent ticks at least every renew interval / 2).
    case tick
    /// The lease asked for by `.grantLease(id:retry:)` exists and this host's member key is on
    /// it; the attempt answered was sent at `sentAt`.
    case leaseGranted(id: Int64, sentAt: Duration)
    /// A grant failed (etcd unreachable, no quorum, or the member key still on an older lease of
    /// this host); it is asked for again with the same id.
    case leaseGrantFailed
    /// The first attempt of a join found its id already granted (another holder's lease): the
    /// next attempt takes a new id.
    case leaseIDTaken(id: Int64)
    /// A renewal sent at `sentAt` was acknowledged.
    case leaseRenewed(id: Int64, sentAt: Duration)
    /// etcd answered that the lease does not exist (it expired).
    case leaseGone(id: Int64)
    /// The live members (full view): host name to the lease its member key is attached to.
    case members([String: Int64])
    /// The owner records (full view), by VM name.
    case owners([String: OwnerRecord])
    /// This host's HA domains, by name (full view).
    case localDomains([String: HALocalDomain])
    /// The spec changed.
    case spec(HASpec)
    /// A claim won: the record now written.
    case claimed(vm: String, OwnerRecord)
    /// A claim lost (the record changed, or the previous owner's lease still exists).
    case claimLost(vm: String)
    /// A start finished (or libvirt refused it).
    case startFinished(vm: String, epoch: Int64, succeeded: Bool)
    /// A libvirt call of HA got no answer within its deadline, or libvirt could not be reached
    /// (a hung or absent libvirtd): the read of this host's HA domains (`vm` nil) or the start of
    /// `vm`, which may still complete.
    case libvirtUnanswered(vm: String?)
    /// While libvirt gives no answer: whether each HA VM's QEMU process still runs here, as the
    /// host's process table shows it (`false`: its process is gone). What libvirt said last may
    /// be stale: a guest that died in the silence still reads as running.
    case processesSeen([String: Bool])
    /// A stop finished (or failed).
    case stopFinished(vm: String, succeeded: Bool)
    /// Writing `epoch` into a running copy's marker finished (or failed).
    case markFinished(vm: String, epoch: Int64, succeeded: Bool)
    /// A live migration of `vm` away from this host (see `HAController.beginMove`) ended, its
    /// outcome recorded or not.
    case moveEnded(vm: String)
}

/// What the HA state machine asks its adapters to do.
public enum HACommand: Hashable, Sendable {
    /// Grant lease `id` with the configured TTL and put this host's member key on it, only if the
    /// key is absent or already on `id`. `retry`: an earlier attempt with this id may have been
    /// granted, so an existing lease `id` is this host's own. `replacing`: first revoke this
    /// older lease of this host (it fenced by its deadline and every HA VM here is stopped), so
    /// the member key is free at once instead of when etcd expires it.
    case grantLease(id: Int64, retry: Bool, replacing: Int64? = nil)
    /// Renew a lease (a keepalive); report `leaseRenewed` with the time it was sent.
    case renewLease(id: Int64)
    /// Pet the watchdog (only ever asked while the lease is valid).
    case petWatchdog
    /// Hard-stop (destroy) a VM on this host, now.
    case stop(vm: String, cause: HAStopCause)
    /// Claim a VM's owner record, conditionally.
    case claim(vm: String, HAClaim)
    /// Start a VM on this host with `epoch` in its marker (never through autostart).
    case start(vm: String, epoch: Int64)
    /// Write `epoch` into the marker of the copy that runs here (live and persistent), without
    /// restarting it: the copy the owner record accepted as `carried`.
    case mark(vm: String, epoch: Int64)
    /// Keep this across a restart of the agent.
    case persist(HAPersisted?)
}

/// A decision worth a log line (fencing and takeovers always name the epoch).
public struct HADecision: Hashable, Sendable {
    public var at: Duration
    public var text: String

    public init(at: Duration, text: String) {
        self.at = at
        self.text = text
    }
}

/// A takeover this host finished: `vm` of `from` runs here with `epoch`. Instants are on this
/// host's monotonic clock; `runningAt - leaseGoneAt` is the part of the recovery this host saw
/// (detection before it, by etcd's lease expiry, is not in it).
public struct HARecovery: Hashable, Sendable, Codable {
    public var vm: String
    public var from: String
    public var epoch: Int64
    public var leaseGoneAt: Duration
    public var runningAt: Duration

    public init(vm: String, from: String, epoch: Int64, leaseGoneAt: Duration, runningAt: Duration) {
        self.vm = vm
        self.from = from
        self.epoch = epoch
        self.leaseGoneAt = leaseGoneAt
        self.runningAt = runningAt
    }
}

/// The safety measures of `HAController`, each on unless turned off. Only the HA simulator turns
/// one off, to show that its invariants catch the double run that follows (a check that cannot
/// fail proves nothing); the agent always runs with `.full`.
public struct HASafety: Hashable, Sendable {
    /// Rule 1: stop every HA VM when the own deadline passes. Off: the lease counts as held until
    /// etcd says it is gone.
    public var selfFence: Bool
    /// Rule 3: wait `guardTime` after seeing a lease gone before claiming. Off: claim at once.
    public var guardTime: Bool
    /// Count the deadline from when a renewal was sent. Off: from when its answer came.
    public var deadlineFromSend: Bool
    /// Rule 2: a copy on the owner host runs only under the record's lease and epoch. Off: any
    /// copy on the host the record names is kept (a stale one after a reboot included).
    public var epochCheck: Bool

    public init(selfFence: Bool = true, guardTime: Bool = true, deadlineFromSend: Bool = true, epochCheck: Bool = true) {
        self.selfFence = selfFence
        self.guardTime = guardTime
        self.deadlineFromSend = deadlineFromSend
        self.epochCheck = epochCheck
    }

    /// Every measure on.
    public static let full = HASafety()
}

extension Duration {
    /// Seconds with at most two decimals and an `s`: `1.83s`, `2s`.
    var secondsText: String {
        let (seconds, attoseconds) = components
        let hundredths = (Double(seconds) * 100 + Double(attoseconds) / 1e16).rounded()
        let whole = Int64(hundredths) / 100, rest = abs(Int64(hundredths) % 100)
        return rest == 0 ? "\(whole)s" : rest % 10 == 0 ? "\(whole).\(rest / 10)s" : "\(whole).\(rest < 10 ? "0" : "")\(rest)s"
    }
}
