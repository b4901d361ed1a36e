import VirtsyncCore

/// A deterministic simulation of HA on many hosts: the core's `HAController` (the code the agent
/// runs) on every host, driven through virtual time by a model etcd, network, hosts, watchdogs
/// and libvirt, with faults drawn from a seed. Every step checks the invariants; a violation
/// keeps the trace of events and decisions that led to it. The same seed gives the same run.
///
///     let result = HASimulation(seed: 42, config: HASimulation.Config()).run()
///     #expect(result.violations.isEmpty, "\(result.report)")
///
/// What is modelled (decision record 0009):
/// - **etcd**: one linearizable store on a leader member (members on the first three hosts);
///   leases whose TTL counts on the leader's clock from each renewal it receives; an election
///   `electionTimeout` to twice that after the leader is lost, after which every lease gets its
///   full TTL again; expiry checked every 500 ms; a watch that pushes every change.
/// - **network**: per-message delay and loss; a host cut off both ways, deaf (its replies and
///   watch events lost), mute (what it sends lost), or slow (a gray failure: half its requests
///   lost, every message to or from it 1 to 4 s late).
/// - **faults**: one at a time, sometimes a second one on another host while the first lasts.
/// - **hosts**: crash (guests gone) and reboot (a new boot: the persisted lease is not resumed),
///   freeze and thaw (guests count as running all along), agent crash and restart (guests keep
///   running), monotonic clocks up to `clockSkew` fast or slow, a watchdog outside the host
///   that resets it when not petted for `watchdogTimeout`.
/// - **libvirt**: start and destroy latencies, starts that fail, and a libvirtd that hangs in a
///   start (a guest's QEMU dies, the start that follows never returns, and every later call waits
///   until the hang ends; the runner's call deadline reports each as unanswered).
public final class HASimulation {
    public struct Config: Sendable {
        public var hosts = 3
        public var vms = 6
        public var timings = HATimings(leaseTTL: .seconds(5), margin: .milliseconds(1500), guardTime: .seconds(1),
                                       watchdogTimeout: .seconds(3), startRetry: .seconds(2), hypervisorHang: .seconds(4))
        public var safety = HASafety.full
        public var duration: Duration = .seconds(180)
        /// Time between the end of one fault and the start of the next, at least.
        public var calm: ClosedRange<Double> = 6...20
        public var electionTimeout: Duration = .seconds(1)
        public var clockSkew = 0.01
        public var watchdog = true
        /// The faults drawn from.
        public var faults: [Fault] = Fault.allCases
        /// One-way network delay, in seconds.
        public var delay: ClosedRange<Double> = 0.0002...0.004
        public var loss = 0.002
        /// What a slow host (a gray failure) adds to every message to or from it, in seconds:
        /// TCP retransmissions back off 1, 2, 4 s.
        public var slowDelay: ClosedRange<Double> = 1...6
        /// How often a second fault, on another host, starts while one lasts.
        public var overlap = 0.3
        public var startLatency: ClosedRange<Double> = 0.1...0.9
        /// How often a start is slow (a large guest, busy storage), and how slow it then is.
        public var slowStart = 0.2
        public var slowStartLatency: ClosedRange<Double> = 1...5
        /// How often a host is cut off just after it begins to start an HA VM.
        public var cutDuringStart = 0.05
        public var startFailure = 0.02
        /// The runner's deadline for one libvirt call (the agent's `libvirt.callTimeout`, scaled).
        public var callTimeout: Duration = .seconds(8)
        /// How long a hung libvirtd stays hung, in seconds (the watchdog may reset the host first).
        public var hangLength: ClosedRange<Double> = 3...60
        public var stopLatency: ClosedRange<Double> = 0.005...0.08
        /// How often a destroy is slow (QEMU stuck in I/O), and how slow: under margin + guard,
        /// the time HA gives a fenced host's stops before another host starts its VMs.
        public var slowStop = 0.1
        public var slowStopLatency: ClosedRange<Double> = 0.5...2
        public var traceLines = 400

        public init() {}

        /// No watchdog, and only the faults an agent must fence on its own (no freeze and no
        /// agent crash, which only a watchdog can end): what the agent's own rules must get right
        /// with no reset to save them.
        public static var agentOnly: Config {
            var config = Config()
            config.watchdog = false
            config.faults = [.crash, .cut, .deaf, .mute, .slow]
            return config
        }
    }

    /// One broken invariant, with the trace that led to it.
    public struct Violation: Sendable, CustomStringConvertible {
        public var at: Duration
        public var what: String
        public var trace: [String]
        public var description: String { "[\(HASimulation.format(at))] \(what)" }
    }

    public struct Result: Sendable {
        public var seed: UInt64
        public var violations: [Violation]
        /// For each crash with nothing else going wrong until its VMs ran again: how long that took.
        public var recoveries: [Duration]
        public var faults: [String: Int]
        public var events: Int
        /// The last `traceLines` lines of the trace, violation or not.
        public var trace: [String] = []

        /// The first violation with its trace, or a one-line summary.
        public var report: String {
            guard let first = violations.first else {
                return "seed \(seed): no violation, \(events) events, faults \(faults.sorted { $0.key < $1.key })"
            }
            return "seed \(seed): \(violations.count) violation(s); first: \(first)\ntrace:\n" + first.trace.joined(separator: "\n")
        }
    }

    let seed: UInt64
    let config: Config
    var rng: SplitMix64
    var now: Duration = .zero
    var queue = EventQueue()
    var hosts: [SimHost] = []
    var etcd: SimEtcd
    let vmNames: [String]
    var trace: [String] = []
    var violations: [Violation] = []
    var recoveries: [Duration] = []
    var faultCounts: [String: Int] = [:]
    var events = 0
    /// The crash (or libvirt hang) being timed: the host, when, the VMs it took down, whether
    /// another fault spoiled it, and the bound the timings promise for it.
    var timedCrash: (host: Int, at: Duration, vms: Set<String>, spoiled: Bool, bound: Duration, fault: Fault)?
    /// The last epoch seen per VM (epochs only grow).
    var lastEpoch: [String: Int64] = [:]
    /// A `.fault` event is in the queue.
    var nextFaultScheduled = true

    public init(seed: UInt64, config: Config = Config()) {
        self.seed = seed
        self.config = config
        rng = SplitMix64(seed: seed)
        vmNames = (1...config.vms).map { "vm-\($0)" }
        etcd = SimEtcd(members: Array(0..<min(3, config.hosts)))
        for index in 0..<config.hosts {
            let rate = 1 + rng.double(in: -config.clockSkew...config.clockSkew)
            hosts.append(SimHost(index: index, rate: rate))
        }
    }

    public func run() -> Result {
        let spec = haSpec()
        for index in hosts.indices {
            hosts[index].defined = Set(vmNames)
            hosts[index].running["plain-\(index)"] = 0
            bootAgent(index, spec: spec)
            schedule(after: .milliseconds(100), .watchdogCheck(host: index, boot: 0))
        }
        schedule(after: .milliseconds(500), .etcdExpiry)
        schedule(after: seconds(rng.double(in: 15...25)), .fault)
        while let event = queue.pop(), event.at <= config.duration {
            now = event.at
            events += 1
            handle(event.action)
            check()
            if violations.count >= 1 { break }
            if events > 2_000_000 {
                violate("runaway: more than 2,000,000 events by \(Self.format(now)) s (last: \(event.action))")
                break
            }
        }
        return Result(seed: seed, violations: violations, recoveries: recoveries, faults: faultCounts, events: events, trace: trace)
    }

    // MARK: - Helpers

    func haSpec() -> HASpec {
        var spec = HASpec(hosts: hosts.map { PlacementHost(name: $0.name, memory: .gib(64)) },
                          machines: vmNames.map { HAMachine(request: PlacementRequest(name: $0, rule: PlacementRule(), memory: .gib(1), vcpus: 1, ha: true)) })
        for (position, vm) in vmNames.enumerated() { spec.assigned[vm] = hosts[position % hosts.count].name }
        return spec
    }

    func seconds(_ value: Double) -> Duration { .nanoseconds(Int64(value * 1e9)) }

    func schedule(after delay: Duration, _ action: Action) {
        queue.push(at: now + delay, action)
    }

    func log(_ text: String) {
        trace.append("[\(Self.format(now))] \(text)")
        if trace.count > config.traceLines { trace.removeFirst(trace.count - config.traceLines) }
    }

    static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(ms / 1000).\(String(format: "%03d", Int(ms % 1000)))"
    }

    func violate(_ what: String) {
        log("VIOLATION: \(what)")
        violations.append(Violation(at: now, what: what, trace: trace))
    }

    /// A message delay, or nil when the message is lost; `slowDelay` more to or from a slow host.
    func delay(slow: Bool = false) -> Duration? {
        if rng.double(in: 0...1) < config.loss { return nil }
        return seconds(rng.double(in: config.delay) + (slow ? rng.double(in: config.slowDelay) : 0))
    }
}

/// SplitMix64: a small, fast, seedable generator (the simulator must not depend on the system's).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func double(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * (Double(next() >> 11) / Double(1 << 53))
    }

    public mutating func int(_ upper: Int) -> Int { Int(next() % UInt64(upper)) }
}

/// Events ordered by time, then by the order they were scheduled (deterministic ties).
struct EventQueue {
    struct Entry {
        var at: Duration
        var sequence: Int
        var action: HASimulation.Action
    }

    private var heap: [Entry] = []
    private var sequence = 0

    mutating func push(at: Duration, _ action: HASimulation.Action) {
        sequence += 1
        heap.append(Entry(at: at, sequence: sequence, action: action))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, less(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool { a.at != b.at ? a.at < b.at : a.sequence < b.sequence }
}
