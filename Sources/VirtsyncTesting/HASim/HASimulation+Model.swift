import VirtsyncCore

/// A simulated host: its power, its agent's controller, its guests and its clock.
struct SimHost {
    enum Power { case up, frozen, down }

    let index: Int
    var name: String { "host-\(index + 1)" }
    /// Clock rate against true time (1.01: 1% fast).
    let rate: Double
    var power: Power = .up
    var agentUp = false
    var controller: HAController?
    /// Bumped at each start of the agent: events for an older agent are dropped.
    var agentGeneration = 0
    /// Bumped at each boot: the persisted lease of another boot is not resumed.
    var boot = 0
    /// True time of this boot: the host's monotonic clock counts from it.
    var bootedAt: Duration = .zero
    /// Guests whose QEMU exists (running, or stopped with the frozen host), with their epoch (0: none).
    var running: [String: Int64] = [:]
    var defined: Set<String> = []
    var persisted: (boot: Int, lease: HAPersisted)?
    /// True time of the last pet of the watchdog.
    var lastPet: Duration?
    /// Network: cut off both ways, deaf (receives nothing), mute (what it sends is lost).
    var cut = false
    var deaf = false
    var mute = false
    /// A gray failure: what it sends is lost half the time, and every message to or from it
    /// takes 1 to 4 s more.
    var slow = false
    /// The fault under way on this host, if any.
    var fault: HASimulation.Fault?
    /// Claims and a grant sent and not answered yet (answered once: by etcd or by the deadline).
    var openClaims: Set<String> = []
    var openGrant = false
    /// The revision of the newest view the agent took (an older one arriving later is dropped).
    var lastRevision: Int64 = 0
    /// libvirtd is hung (since when): every operation waits until it is not.
    var hungSince: Duration?
    /// The next start hangs libvirtd (the fault `libvirtHang`).
    var hangNextStart = false
    /// Starts the runner still waits for, by VM: the token of the latest (answered once: by
    /// libvirt or by the call deadline).
    var openStarts: [String: Int] = [:]
    var startTokens = 0

    init(index: Int, rate: Double) {
        self.index = index
        self.rate = rate
    }

    /// The host's monotonic clock at true time `now`.
    func clock(_ now: Duration) -> Duration {
        let elapsed = now - bootedAt
        let nanos = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return .nanoseconds(Int64(nanos * rate)) + .seconds(1000)
    }

    /// True time until the host's clock has moved by `duration`.
    func trueDuration(_ duration: Duration) -> Duration {
        let nanos = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
        return .nanoseconds(Int64(nanos / rate))
    }
}

/// The model etcd: the keys HA uses, leases counted on the leader's clock, a leader that must
/// reach a majority of members.
struct SimEtcd {
    let members: [Int]
    var leader: Int?
    /// When the leader was lost (an election is due).
    var leaderLostAt: Duration?
    var revision: Int64 = 1
    /// Lease id to its TTL and the true time it expires.
    var leases: [Int64: (ttl: Duration, expiresAt: Duration)] = [:]
    var memberKeys: [String: Int64] = [:]
    var owners: [String: OwnerRecord] = [:]

    init(members: [Int]) {
        self.members = members
        leader = members.first
    }

    var view: (members: [String: Int64], owners: [String: OwnerRecord]) { (memberKeys, owners) }
}

extension HASimulation {
    enum Action {
        case tick(host: Int, generation: Int)
        case poll(host: Int, generation: Int)
        /// An event reaches a host's controller (dropped if the agent restarted meanwhile).
        case deliver(host: Int, generation: Int, HAEvent)
        /// A request reaches etcd's leader.
        case request(host: Int, generation: Int, Request)
        /// A libvirt operation finishes on a host.
        case libvirt(host: Int, generation: Int, boot: Int, Operation)
        /// The runner's deadline for a start passed: reported unanswered unless libvirt answered.
        case startDeadline(host: Int, generation: Int, vm: String, token: Int)
        case etcdExpiry
        case election
        case fault
        /// A fault aimed at one host at an awkward moment (while it starts an HA VM), with its label.
        case strike(Fault, host: Int, label: String)
        case heal(Fault, host: Int)
        case watchdogCheck(host: Int, boot: Int)
        case agentStart(host: Int)
        case boot(host: Int)
        case deliverView(host: Int, generation: Int, revision: Int64, members: [String: Int64], owners: [String: OwnerRecord])
    }

    enum Request {
        case grant(lease: Int64, retry: Bool, replacing: Int64?, sentAt: Duration)
        case renew(lease: Int64, sentAt: Duration)
        case claim(vm: String, HAClaim)
        case view
    }

    enum Operation {
        case start(vm: String, epoch: Int64, token: Int)
        case stop(vm: String)
        case mark(vm: String, epoch: Int64)
    }

    public enum Fault: String, CaseIterable, Sendable {
        case crash, freeze, cut, deaf, mute, slow, agentCrash, libvirtHang
    }

    // MARK: - Agents

    func bootAgent(_ index: Int, spec: HASpec) {
        var host = hosts[index]
        host.agentGeneration += 1
        host.agentUp = true
        host.lastRevision = 0
        let clock = host.clock(now)
        let resumed = host.persisted.flatMap { $0.boot == host.boot ? $0.lease : nil }
        host.controller = HAController(host: host.name, timings: config.timings, spec: spec, resumed: resumed, now: clock,
                                       safety: config.safety,
                                       leaseIDs: HALeaseIDs(sequentialAfter: Int64(index + 1) * 1_000_000 + Int64(host.agentGeneration) * 1_000),
                                       watchdog: config.watchdog)
        host.openStarts = [:]
        hosts[index] = host
        log("\(host.name): agent starts\(resumed.map { ", resuming lease \($0.lease)" } ?? "")")
        schedule(after: .milliseconds(Int64(rng.int(100))), .tick(host: index, generation: host.agentGeneration))
        schedule(after: .milliseconds(Int64(rng.int(500))), .poll(host: index, generation: host.agentGeneration))
    }

    var tickInterval: Duration { min(.milliseconds(500), config.timings.renewInterval / 4) }

    /// Whether the host's agent can act now (the host is up, not frozen, and the agent runs).
    func acting(_ index: Int, generation: Int) -> Bool {
        let host = hosts[index]
        return host.power == .up && host.agentUp && host.agentGeneration == generation
    }

    func send(_ index: Int, _ event: HAEvent) {
        guard var controller = hosts[index].controller else { return }
        let commands = controller.handle(event, now: hosts[index].clock(now))
        for decision in controller.takeDecisions() { log("\(hosts[index].name): \(decision.text)") }
        _ = controller.takeRecoveries()
        hosts[index].controller = controller
        for command in commands { execute(index, command) }
    }

    func execute(_ index: Int, _ command: HACommand) {
        let host = hosts[index]
        let generation = host.agentGeneration
        switch command {
        case .petWatchdog:
            hosts[index].lastPet = now
        case .persist(let lease):
            hosts[index].persisted = lease.map { (host.boot, $0) }
        case .grantLease(let id, let retry, let replacing):
            hosts[index].openGrant = true
            toEtcd(index, .grant(lease: id, retry: retry, replacing: replacing, sentAt: host.clock(now)))
            let deadline = host.trueDuration(min(.seconds(2), config.timings.renewInterval))
            schedule(after: deadline, .deliver(host: index, generation: generation, .leaseGrantFailed))
        case .renewLease(let id):
            toEtcd(index, .renew(lease: id, sentAt: host.clock(now)))
        case .claim(let vm, let claim):
            hosts[index].openClaims.insert(vm)
            toEtcd(index, .claim(vm: vm, claim))
            // The runner reports a claim lost when no answer comes within the call deadline.
            let deadline = host.trueDuration(min(.seconds(2), config.timings.renewInterval))
            schedule(after: deadline, .deliver(host: index, generation: generation, .claimLost(vm: vm)))
        case .start(let vm, let epoch):
            if vm.hasPrefix("plain") { violate("\(host.name): HA started \(vm), which is not an HA VM") }
            let latency = rng.double(in: 0...1) < config.slowStart ? config.slowStartLatency : config.startLatency
            hosts[index].startTokens += 1
            let token = hosts[index].startTokens
            hosts[index].openStarts[vm] = token
            schedule(after: seconds(rng.double(in: latency)),
                     .libvirt(host: index, generation: generation, boot: host.boot, .start(vm: vm, epoch: epoch, token: token)))
            schedule(after: host.trueDuration(config.callTimeout), .startDeadline(host: index, generation: generation, vm: vm, token: token))
            // Now and then the host is cut off while the start is under way (it fences with the
            // start in flight, and the copy comes up after the fence).
            if rng.double(in: 0...1) < config.cutDuringStart, host.fault == nil, hosts.filter({ $0.fault != nil }).count < 2 {
                schedule(after: seconds(rng.double(in: 0...1.5)), .strike(.cut, host: index, label: "cutDuringStart"))
            }
        case .stop(let vm, _):
            if vm.hasPrefix("plain") { violate("\(host.name): HA stopped \(vm), which is not an HA VM") }
            let latency = rng.double(in: 0...1) < config.slowStop ? config.slowStopLatency : config.stopLatency
            schedule(after: seconds(rng.double(in: latency)),
                     .libvirt(host: index, generation: generation, boot: host.boot, .stop(vm: vm)))
        case .mark(let vm, let epoch):
            schedule(after: seconds(rng.double(in: config.stopLatency)),
                     .libvirt(host: index, generation: generation, boot: host.boot, .mark(vm: vm, epoch: epoch)))
        }
    }

    /// Sends a request from a host towards etcd's leader; lost when the host is mute or cut off,
    /// or the message is.
    func toEtcd(_ index: Int, _ request: Request) {
        let host = hosts[index]
        guard !host.cut, !host.mute, let delay = delay(slow: host.slow) else { return }
        if host.slow, rng.double(in: 0...1) < 0.5 { return }
        schedule(after: delay, .request(host: index, generation: host.agentGeneration, request))
    }

    /// Sends an answer from etcd to a host's agent; lost when the host is deaf or cut off.
    func toHost(_ index: Int, generation: Int, _ event: HAEvent) {
        let host = hosts[index]
        guard !host.cut, !host.deaf, let delay = delay(slow: host.slow) else { return }
        schedule(after: delay, .deliver(host: index, generation: generation, event))
    }

    func localDomains(_ index: Int) -> [String: HALocalDomain] {
        var out: [String: HALocalDomain] = [:]
        for vm in vmNames where hosts[index].defined.contains(vm) {
            let epoch = hosts[index].running[vm]
            out[vm] = HALocalDomain(running: epoch != nil, epoch: epoch.flatMap { $0 == 0 ? nil : $0 })
        }
        return out
    }
}
