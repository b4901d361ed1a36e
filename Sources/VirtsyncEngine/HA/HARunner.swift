import Foundation
import Logging
import VirtsyncCore

/// What an `HARunner` reports besides its log lines.
public enum HAObservation: Sendable, Hashable {
    /// A decision (also logged at notice level).
    case decision(HADecision)
    /// A takeover finished: the VM runs here.
    case recovery(HARecovery)
    /// A hard stop of an HA VM was asked for (fencing, or a copy this host must not run).
    case stopping(vm: String, cause: HAStopCause)
}

/// Drives the core's `HAController` on one host: feeds it time, the coordination service's
/// views and this host's HA domains, and carries its commands out through the ports.
///
/// Every command that waits on something (a lease call, a claim, a libvirt start or stop) runs
/// in a task of its own and reports back as an event, so a hung etcd call never delays the
/// fence: the controller sees the deadline pass on the next tick (every `tick`, at most a
/// quarter of the renew interval) and its stop commands go out at once.
public actor HARunner {
    public nonisolated let host: String
    var controller: HAController
    let coordinator: any HACoordinator
    let domains: any HADomainControl
    private let watchdog: (any HAWatchdog)?
    private let clock: any AgentClock
    let now: @Sendable () -> Duration
    private let persist: @Sendable (HAPersisted?) -> Void
    let logger: Logger
    private let tick: Duration
    /// What every decision, stop and finished takeover is also handed to (status, metrics);
    /// called on the actor.
    private let observe: @Sendable (HAObservation) -> Void
    /// The revision of the newest view handed to the controller.
    private var lastRevision: Int64 = 0

    /// A runner for `host`; `resumed` is what the previous run persisted (see `HAController`).
    /// `now` is the monotonic clock the deadlines are on (`BootClock.now` on a real host); `clock`
    /// paces the ticks.
    public init(host: String, timings: HATimings, spec: HASpec, resumed: HAPersisted?, coordinator: any HACoordinator,
                domains: any HADomainControl, watchdog: (any HAWatchdog)?, clock: any AgentClock,
                now: @escaping @Sendable () -> Duration = BootClock.now, persist: @escaping @Sendable (HAPersisted?) -> Void,
                logger: Logger = Logger(label: "virtsync.ha"), observe: @escaping @Sendable (HAObservation) -> Void = { _ in }) {
        self.host = host
        self.controller = HAController(host: host, timings: timings, spec: spec, resumed: resumed, now: now(), watchdog: watchdog != nil)
        self.coordinator = coordinator
        self.domains = domains
        self.watchdog = watchdog
        self.clock = clock
        self.now = now
        self.persist = persist
        self.logger = logger
        self.tick = min(.milliseconds(500), timings.renewInterval / 4)
        self.observe = observe
    }

    /// The state of the controller, for status and tests.
    public var state: HAController { controller }

    /// Records the VMs this host holds in the coordination service (see `HACoordinator.publish`).
    public func publish(vms: Set<String>) async throws {
        try await coordinator.publish(host: host, vms: vms)
    }

    /// The spec hosts known dead now (see `HAController.deadHosts`) that published what they
    /// held, with those VMs. A host that never published (no agent ever ran HA there) is not
    /// taken for dead: nothing says what it runs.
    public func deadHosts() async -> [String: Set<String>] {
        let dead = controller.deadHosts(at: now())
        guard !dead.isEmpty, let published = try? await coordinator.inventories() else { return [:] }
        return published.filter { dead.contains($0.key) }
    }

    /// A new spec (HA VMs, hosts, the spec's placement).
    public func update(spec: HASpec) {
        send(.spec(spec))
    }

    /// Runs until the calling task is cancelled: ticks, watches the coordination service, polls
    /// this host's HA domains.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.tickLoop() }
            group.addTask { await self.watchLoop() }
            group.addTask { await self.pollLoop() }
            group.addTask { await self.domainLoop() }
            await group.waitForAll()
        }
    }

    /// A planned stop of HA on this host (the agent stops and no watchdog covers it): once the
    /// loops have ended (cancel the task of `run()` first), hard-stops every HA VM that runs here,
    /// checking again until none does, then gives the lease back so the other hosts take the VMs
    /// over after their guard instead of after the TTL. Nothing persisted survives it.
    public func release() async {
        let names = Set(controller.spec.machines.map(\.name))
        for attempt in 0..<5 {
            guard let seen = try? await domains.domains(names) else { break }
            let running = seen.filter(\.value.running).keys.sorted()
            if running.isEmpty { break }
            for vm in running {
                logger.notice("stopping \(vm): the agent stops and no watchdog covers this host", metadata: ["host": "\(host)"])
                observe(.stopping(vm: vm, cause: .released))
                do {
                    try await domains.hardStop(vm: vm)
                } catch {
                    logger.error("cannot stop an HA VM", metadata: ["vm": "\(vm)", "error": "\(error)", "attempt": "\(attempt + 1)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        if let lease = controller.validLease(at: now()) {
            do {
                try await coordinator.leave(lease: lease)
                logger.notice("lease \(lease) given back", metadata: ["host": "\(host)"])
            } catch {
                logger.warning("cannot give the lease back; it expires on its own", metadata: ["lease": "\(lease)", "error": "\(error)"])
            }
        }
        persist(nil)
    }

    // MARK: - Loops

    private func tickLoop() async {
        while !Task.isCancelled {
            send(.tick)
            try? await sleep(tick)
        }
    }

    private func watchLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let view = try await coordinator.view()
                apply(view)
                failures = 0
                for try await change in coordinator.changes(after: view.revision) {
                    apply(change)
                }
            } catch {
                // Once per outage at warning level: it is tried again four times a second.
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "coordination watch broke; reading again",
                           metadata: ["error": "\(error)"])
            }
            // Soon: the member it watched may be the one that died, and the others need the news.
            try? await sleep(.milliseconds(250))
        }
    }

    /// Reads the whole view every half second (at most every half renew interval) besides the watch:
    /// a watch on a member cut off from the others stays open and silent (no error, no events)
    /// until gRPC's keepalive gives up (etcd refuses pings more often than every 5 s), and a
    /// takeover must not wait for that.
    private func pollLoop() async {
        let interval = min(.milliseconds(500), controller.timings.renewInterval / 2)
        while !Task.isCancelled {
            try? await sleep(interval)
            if let view = try? await coordinator.view() { apply(view) }
        }
    }

    private func domainLoop() async {
        while !Task.isCancelled {
            let names = Set(controller.spec.machines.map(\.name))
            do {
                send(.localDomains(try await domains.domains(names)))
            } catch where Self.unanswered(error) {
                send(.libvirtUnanswered(vm: nil))
                if let processes = domains.processes(names) { send(.processesSeen(processes)) }
            } catch {
                // libvirt answered (a refusal): the next read may do better.
            }
            try? await sleep(tick)
        }
    }

    /// Whether `error` means libvirt gave no answer (a deadline passed, or it cannot be reached),
    /// as opposed to an answer that refused.
    static func unanswered(_ error: any Error) -> Bool {
        guard let error = error as? HypervisorError else { return false }
        return error.code == .timeout || error.code == .unreachable
    }

    private func apply(_ view: HAClusterView) {
        // The poll and the watch race: never go back to an older view.
        guard view.revision >= lastRevision else { return }
        lastRevision = view.revision
        send(.members(view.members))
        send(.owners(view.owners))
    }

    private func sleep(_ duration: Duration) async throws {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        try await clock.sleep(until: clock.now() + seconds)
    }

    // MARK: - Events and commands

    /// Hands `event` to the controller and carries out its commands.
    func send(_ event: HAEvent) {
        let commands = controller.handle(event, now: now())
        flush()
        for command in commands { execute(command) }
    }

    /// Writes `vm`'s owner record as `claim` says and reports `claimed` or `claimLost` (also when
    /// the write failed: its condition is checked again on the next try).
    func write(_ vm: String, _ claim: HAClaim) async {
        do {
            if let record = try await coordinator.claim(vm: vm, host: host, claim) {
                send(.claimed(vm: vm, record))
            } else {
                send(.claimLost(vm: vm))
            }
        } catch {
            logger.warning("claim failed", metadata: ["vm": "\(vm)", "error": "\(error)"])
            send(.claimLost(vm: vm))
        }
    }

    /// Logs and hands on the controller's decisions and finished takeovers.
    func flush() {
        for decision in controller.takeDecisions() {
            logger.notice("\(decision.text)", metadata: ["host": "\(host)"])
            observe(.decision(decision))
        }
        for recovery in controller.takeRecoveries() { observe(.recovery(recovery)) }
    }

    private func execute(_ command: HACommand) {
        switch command {
        case .petWatchdog:
            do {
                try watchdog?.pet()
            } catch {
                logger.error("cannot pet the watchdog", metadata: ["error": "\(error)"])
            }
        case .persist(let state):
            persist(state)
        case .grantLease(let id, let retry, let replacing):
            let sentAt = now()
            if let replacing { logger.notice("giving back lease \(replacing), fenced from, with the join", metadata: ["host": "\(host)"]) }
            Task {
                do {
                    try await coordinator.join(host: host, lease: id, ttl: controller.timings.leaseTTL, retry: retry, replacing: replacing)
                    send(.leaseGranted(id: id, sentAt: sentAt))
                } catch HAJoinError.leaseIDTaken(let id) {
                    logger.warning("lease id taken; asking for another", metadata: ["lease": "\(id)"])
                    send(.leaseIDTaken(id: id))
                } catch {
                    logger.warning("cannot get a lease", metadata: ["lease": "\(id)", "error": "\(error)"])
                    send(.leaseGrantFailed)
                }
            }
        case .renewLease(let id):
            let sentAt = now()
            Task {
                do {
                    let alive = try await coordinator.renew(lease: id)
                    send(alive ? .leaseRenewed(id: id, sentAt: sentAt) : .leaseGone(id: id))
                } catch {
                    // Nothing to report: the deadline decides.
                    logger.warning("lease renewal failed", metadata: ["lease": "\(id)", "error": "\(error)"])
                }
            }
        case .claim(let vm, let claim):
            Task { await write(vm, claim) }
        case .start(let vm, let epoch):
            Task {
                do {
                    try await domains.start(vm: vm, epoch: epoch)
                    send(.startFinished(vm: vm, epoch: epoch, succeeded: true))
                } catch {
                    logger.error("cannot start an HA VM", metadata: ["vm": "\(vm)", "epoch": "\(epoch)", "error": "\(error)"])
                    send(Self.unanswered(error) ? .libvirtUnanswered(vm: vm) : .startFinished(vm: vm, epoch: epoch, succeeded: false))
                }
            }
        case .mark(let vm, let epoch):
            Task {
                do {
                    try await domains.mark(vm: vm, epoch: epoch)
                    send(.markFinished(vm: vm, epoch: epoch, succeeded: true))
                } catch {
                    logger.warning("cannot write the epoch into an HA VM's marker", metadata: ["vm": "\(vm)", "epoch": "\(epoch)", "error": "\(error)"])
                    send(.markFinished(vm: vm, epoch: epoch, succeeded: false))
                }
            }
        case .stop(let vm, let cause):
            observe(.stopping(vm: vm, cause: cause))
            Task {
                do {
                    try await domains.hardStop(vm: vm)
                    send(.stopFinished(vm: vm, succeeded: true))
                } catch {
                    logger.error("cannot stop an HA VM", metadata: ["vm": "\(vm)", "error": "\(error)"])
                    send(.stopFinished(vm: vm, succeeded: false))
                }
            }
        }
    }
}
