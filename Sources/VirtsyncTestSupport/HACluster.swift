import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A testbed of three hosts with HA as operators run it: a 3-member etcd (one member inside each
/// host), a git repository with the spec, and a real `virtsync agent` inside each host with an
/// `ha` section (lease TTL 5 s, margin 1.5 s, guard 1 s), optionally with the testbed's emulated
/// watchdog. etcd's election timeout is 500 ms (heartbeat 50 ms), as a TTL of 5 s wants: with
/// etcd's default of 1 s, an election after the leader's host died can outlast the 1.8 s that
/// `leaseTTL - margin - leaseTTL/3` leaves a renewal, and a surviving host then stops its own HA
/// VMs (`HATimings.warnings`). A `DoubleRunChecker` reads every QEMU process from /proc the whole time. Used by
/// the cluster tests and by `virtsync-bench --ha-only`.
public final class HACluster {
    public let testbed: Testbed
    public let git: GitFixture
    public let scratch: ScratchDirectory
    public let vms: [String]
    public let watchdog: Bool
    /// etcd's election timeout in milliseconds (nil: etcd's default, 1000).
    public let etcdElection: Int?
    public private(set) var agents: [String: ChildProcess] = [:]
    public private(set) var checker: DoubleRunChecker?
    /// More spec documents (non-HA VMs), written after the HA VMs.
    public var extra: [String] = []
    /// HA VMs pinned to a host (`host:`) instead of placed, by VM name.
    public var pinned: [String: String] = [:]
    /// Hosts marked `maintenance: true` in the spec.
    public var maintenance: Set<String> = []
    /// The agents' `ha.failbackSettle`, in seconds (nil: the default, one minute).
    public var failbackSettle: Double?
    /// How the checker counts live-migration destinations (`.migrationAware` for tests that move
    /// HA VMs; by default every second copy is a double run).
    public var incoming: DoubleRunChecker.Incoming = .counted

    public static let leaseTTL = 5.0, margin = 1.5, guardTime = 1.0
    /// etcd's election timeout in milliseconds (heartbeat a tenth of it) unless told otherwise.
    public static let etcdElection = 500
    /// How long libvirt may be silent while an owned HA VM is down before a host fences itself.
    public static let hypervisorHang = 2.0
    /// The watchdog fires this long after the last pet: at most leaseTTL - margin.
    public static let watchdogTimeout = 3.0

    /// Brings up the testbed, etcd and the repository; `start()` starts the agents.
    /// - Parameter etcdElection: etcd's election timeout in milliseconds; nil: etcd's defaults
    ///   (or `VIRTSYNC_TESTBED_ETCD_ELECTION_MS` from the environment).
    public init(vms count: Int, watchdog: Bool, name: String = Testbed.uniqueName(prefix: "vha"),
                etcdElection: Int? = HACluster.etcdElection) async throws {
        testbed = try Testbed.up(hosts: 3, name: name)
        do {
            git = try await GitFixture()
            scratch = try ScratchDirectory(prefix: "ha-cluster")
            let tag = TinySpec.uniqueTag()
            vms = (1...count).map { "\(tag)-ha-\($0)" }
            self.watchdog = watchdog
            self.etcdElection = etcdElection
            _ = try testbed.startEtcd(electionTimeout: etcdElection)
            try writeSpec()
            _ = try await git.commit("HA VMs")
        } catch {
            try? testbed.down()
            throw error
        }
    }

    /// Writes the spec again (with `extra`) and commits it; the agents pick it up within an interval.
    public func commitSpec(_ message: String) async throws {
        try writeSpec()
        _ = try await git.commit(message)
    }

    func writeSpec() throws {
        var documents = testbed.hosts.map { host in
            """
            apiVersion: virtsync/v1
            kind: Host
            name: \(host.name)
            uri: "\(host.peerURI)"
            migrationURI: "\(host.peerURI)"
            \(maintenance.contains(host.name) ? "maintenance: true" : "")

            """
        }
        for vm in vms {
            documents.append("""
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(vm)
            \(pinned[vm].map { "host: \($0)" } ?? "placement:\n  hosts: [\(testbed.hosts.map(\.name).joined(separator: ", "))]")
            ha: true
            vcpus: 1
            memory: 32MiB
            machine: pc
            loader: \(Testbed.qboot)
            power: running

            """)
        }
        try git.write("spec.yaml", TinySpec.documents(documents + extra))
    }

    /// A non-HA tiny VM document, running, on `host` or placed by virtsync.
    public func plainVM(_ name: String, host: String? = nil) -> String {
        """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(name)
        \(host.map { "host: \($0)" } ?? "placement:\n  hosts: [\(testbed.hosts.map(\.name).joined(separator: ", "))]")
        vcpus: 1
        memory: 32MiB
        machine: pc
        loader: \(Testbed.qboot)
        power: running

        """
    }

    /// The agent configuration of `host`.
    public func config(_ host: Testbed.Host) -> String {
        let endpoints = testbed.hosts.map { "\"\($0.address):\(Testbed.etcdClientPort)\"" }.joined(separator: ", ")
        let device = watchdog ? "/run/libvirt/watchdog" : "off"
        return """
        apiVersion: virtsync/v1
        kind: AgentConfig
        host: \(host.name)
        source:
          repo: \(git.url)
        libvirt:
          uri: qemu:///system
          shutdownTimeout: 0s
        reconcile:
          interval: 5s
        stateDir: \(scratch.path("\(host.name)/state"))
        hostsDir: \(scratch.path("\(host.name)/hosts"))
        ha:
          etcd:
            endpoints: [\(endpoints)]
            \(etcdElection.map { "electionTimeout: \($0)ms" } ?? "")
          leaseTTL: \(Int(Self.leaseTTL * 1000))ms
          margin: \(Int(Self.margin * 1000))ms
          guard: \(Int(Self.guardTime * 1000))ms
          hypervisorHang: \(Int(Self.hypervisorHang * 1000))ms
          \(failbackSettle.map { "failbackSettle: \(Int($0 * 1000))ms" } ?? "")
          watchdog:
            device: \(device)
            timeout: \(Int(Self.watchdogTimeout * 1000))ms

        """
    }

    /// The agent's log of `host`.
    public func agentLog(_ host: Testbed.Host) -> String { scratch.path("\(host.name)/agent.log") }

    /// Starts (or starts again) the agent of `host`, with a new watchdog first when the cluster
    /// has them and `newWatchdog` (false: the running one keeps counting, as across a restart of
    /// the agent alone).
    public func startAgent(_ host: Testbed.Host, newWatchdog: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: scratch.path("\(host.name)/state"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("\(host.name)/hosts"), withIntermediateDirectories: true)
        let path = scratch.path("\(host.name)/agent.yaml")
        try config(host).write(toFile: path, atomically: true, encoding: .utf8)
        if watchdog && newWatchdog { _ = try testbed.startWatchdog(host, timeout: Self.watchdogTimeout) }
        agents[host.name] = try testbed.spawn(host, [VirtsyncBinary.path, "agent", "--config", path], logPath: agentLog(host),
                                              environment: ["VIRTSYNC_SHUTDOWN_TIMEOUT": "0"])
    }

    /// Starts every agent and the checker.
    public func start() throws {
        checker = DoubleRunChecker.start(testbed, incoming: incoming)
        for host in testbed.hosts { try startAgent(host) }
    }

    /// Where each VM runs now, by QEMU processes (a frozen host's count).
    public var copies: [String: [String]] { checker?.copies() ?? [:] }

    /// Waits until every VM runs exactly once, on a host `allowed` accepts; returns how long it took.
    public func waitUntilEachRunsOnce(within timeout: Duration, allowed: (String) -> Bool = { _ in true }) async throws -> Duration? {
        let start = ContinuousClock.now
        while start.duration(to: .now) < timeout {
            let copies = self.copies
            if vms.allSatisfy({ copies[$0]?.count == 1 && allowed(copies[$0]![0]) }) { return start.duration(to: .now) }
            // Every agent gone (a bad configuration): nothing more will happen.
            if !agents.isEmpty && agents.values.allSatisfy({ !$0.isRunning }) { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// The host running the most VMs.
    public var busiest: Testbed.Host {
        let copies = self.copies
        var count: [String: Int] = [:]
        for hosts in copies.values { for host in hosts { count[host, default: 0] += 1 } }
        let name = count.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? testbed.hosts[0].name
        return testbed.hosts.first { $0.name == name } ?? testbed.hosts[0]
    }

    /// The owner records in etcd (VM to host), read through `via`.
    public func owners(via host: Testbed.Host) throws -> [String: String] {
        let output = try testbed.etcdctl(via: host, ["get", "--prefix", "/virtsync/owners/"],
                                         endpoints: testbed.hosts.map(testbed.etcdEndpoint))
        var owners: [String: String] = [:]
        let lines = output.split(separator: "\n").map(String.init)
        var index = 0
        while index + 1 < lines.count {
            let vm = String(lines[index].dropFirst("/virtsync/owners/".count))
            if let data = lines[index + 1].data(using: .utf8),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let host = object["host"] as? String {
                owners[vm] = host
            }
            index += 2
        }
        return owners
    }

    /// What the agents logged, for a failing test's message.
    public func logs() -> String {
        testbed.hosts.map { host in
            let text = (try? String(contentsOfFile: agentLog(host), encoding: .utf8)) ?? "(no log)"
            return "--- \(host.name) agent ---\n" + text.split(separator: "\n").suffix(40).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Stops the agents, the checker and the testbed; returns the checker's report.
    @discardableResult
    public func tearDown() -> DoubleRunChecker.Report? {
        let report = checker?.stop()
        for agent in agents.values { agent.terminate(timeout: 5) }
        try? testbed.down()
        return report
    }
}
