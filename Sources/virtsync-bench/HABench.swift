import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncTestSupport

/// HA failover, measured on the testbed: three hosts with a 3-member etcd and a real agent in
/// each (`HACluster`: lease TTL 5 s, margin 1.5 s, guard 1 s, watchdog off), tiny VMs marked
/// `ha: true`. A host is killed again and again (power loss: every process of it at once): the
/// busiest at odd kills, the one whose etcd member leads at even kills (the worst case); it is
/// brought back after each kill. A kill's recovery is the time from just before the
/// kill until every VM runs exactly once on a live host, as the /proc checker sees it (it scans
/// every 25 ms, so figures are good to about 50 ms); the same checker counts double runs
/// throughout.
enum HABench {
    /// The issue's target: every recovery under this many seconds, and no double run.
    static let targetSeconds = 10.0
    /// A kill whose VMs do not all run elsewhere by then counts as never recovered.
    static let recoveryDeadline: Duration = .seconds(60)
    /// How long a rebooted host may take to run its agent with a lease and a healthy etcd member.
    static let settleDeadline: Duration = .seconds(150)

    /// One kill and what followed it.
    struct Kill {
        let number: Int
        let host: String
        /// The VMs that ran on the host when it was killed.
        let moved: Int
        /// Whether the host's etcd member led the cluster (nil: unknown). Killing the leader
        /// costs an election, and the new leader grants every lease its full TTL again.
        let ledEtcd: Bool?
        /// From just before the kill until every VM ran once elsewhere; nil: not within the deadline.
        let recovery: Duration?
        /// From the start of the reboot until the host's agent held a lease again with 3 healthy
        /// etcd members; nil when that did not happen.
        var rejoin: Duration?
        let at: Date
    }

    /// Runs the benchmark and returns the exit status: 0; 1 when a kill never recovered, a host
    /// did not come back or the checker saw a double run; 3 when no testbed can run here; 130
    /// after SIGINT (everything torn down in each case).
    static func run(kills count: Int, vms: Int, etcdElection: Int? = nil) async -> Int32 {
        guard count > 0, vms > 0 else {
            print("error: --ha-kills and --ha-vms must be positive")
            return 2
        }
        if let status = prepare(label: "ha", etcdElection: etcdElection) { return status }
        let interrupt = Interrupt.install()
        print("virtsync-bench --ha-only: 3 hosts, \(vms) HA tiny VMs, lease TTL \(format(HACluster.leaseTTL)) s "
              + "(margin \(format(HACluster.margin)) s, guard \(format(HACluster.guardTime)) s), watchdog off, \(count) kills, "
              + "etcd election timeout \(etcdElection.map { "\($0) ms, heartbeat \($0 / 10) ms" } ?? "1000 ms, heartbeat 100 ms (etcd's defaults)")")
        fflush(nil)
        let cluster: HACluster
        do {
            cluster = try await HACluster(vms: vms, watchdog: false, name: Testbed.uniqueName(prefix: "vsha"), etcdElection: etcdElection)
        } catch let error as TestbedError where error.code == .unavailable {
            print("ha: no testbed can run here: \(error)")
            return 3
        } catch {
            print("error: testbed, etcd or spec repository: \(error)")
            return 1
        }
        var kills: [Kill] = []
        var failure: String?
        do {
            try await measure(cluster, count: count, interrupt: interrupt, kills: &kills)
        } catch {
            failure = "\(error)"
        }
        let logs = keepLogs(cluster)
        let report = cluster.tearDown()
        if let failure { print("error: \(failure)") }
        summarize(kills, count: count, vms: vms, report: report, logs: logs)
        if interrupt.raised { return 130 }
        let unrecovered = kills.contains { $0.recovery == nil }
        return failure != nil || unrecovered || kills.count < count || !(report?.doubleRuns.isEmpty ?? false) ? 1 : 0
    }

    /// Checks what a testbed benchmark needs and sets etcd's election timeout (nil: etcd's
    /// default) for the testbed to come; returns the exit status when it cannot run: 2 for a bad
    /// timeout, 3 without a testbed or the `virtsync` binary.
    static func prepare(label: String, etcdElection: Int?) -> Int32? {
        if let etcdElection {
            // etcd's own advice: heartbeat about the round trip, election timeout ten times that.
            guard (100...50_000).contains(etcdElection) else {
                print("error: --etcd-election must be 100 to 50000 (milliseconds)")
                return 2
            }
            setenv("VIRTSYNC_TESTBED_ETCD_ELECTION_MS", String(etcdElection), 1)
            setenv("VIRTSYNC_TESTBED_ETCD_HEARTBEAT_MS", String(etcdElection / 10), 1)
        }
        if let reason = Testbed.unavailableReason {
            print("\(label): no testbed can run here: \(reason)")
            return 3
        }
        guard VirtsyncBinary.isBuilt else {
            print("\(label): \(VirtsyncBinary.path) not found: build it beside virtsync-bench (swift build --product virtsync)")
            return 3
        }
        return nil
    }

    /// Starts the agents, waits for the first placement, then kills and brings back a host
    /// `count` times, printing a line per kill; throws when the cluster cannot go on.
    static func measure(_ cluster: HACluster, count: Int, interrupt: Interrupt, kills: inout [Kill]) async throws {
        let started = ContinuousClock.now
        try cluster.start()
        guard try await waitUntilEachRunsOnce(cluster, since: started, within: .seconds(180), interrupt: interrupt) != nil else {
            throw BenchError("the HA VMs never all ran once: \(cluster.copies)\n\(cluster.logs())")
        }
        try await settle(cluster, via: cluster.testbed.hosts[0], interrupt: interrupt)
        print("setup: testbed \(cluster.testbed.name); every VM runs once, 3 agents hold leases, 3 etcd members healthy "
              + "after \(String(format: "%.1f", seconds(started.duration(to: .now)))) s")
        fflush(nil)
        for number in 1...count {
            try interrupt.check()
            // Odd kills take the busiest host; even kills the host whose etcd member leads (the
            // worst case: etcd elects a leader first, which renews every lease to its full TTL),
            // when it runs a VM.
            let copies = cluster.copies
            let leader = etcdLeader(cluster)
            let leaderHost = leader.flatMap { name in cluster.testbed.hosts.first { $0.name == name } }
            let victim = number % 2 == 0 && leaderHost.map { host in cluster.vms.contains { copies[$0] == [host.name] } } == true
                ? leaderHost! : cluster.busiest
            let moved = cluster.vms.filter { copies[$0] == [victim.name] }.count
            let at = Date()
            let killed = ContinuousClock.now
            try cluster.testbed.kill(victim)
            let recovery = try await waitUntilEachRunsOnce(cluster, since: killed, within: recoveryDeadline,
                                                           interrupt: interrupt) { $0 != victim.name }
            var record = Kill(number: number, host: victim.name, moved: moved, ledEtcd: leader.map { $0 == victim.name }, recovery: recovery, rejoin: nil, at: at)
            var rejoinError: Error?
            do {
                let rebooted = ContinuousClock.now
                try cluster.testbed.reboot(victim)
                _ = try cluster.testbed.restartEtcd(victim)
                try cluster.startAgent(victim)
                try await settle(cluster, via: victim, interrupt: interrupt)
                record.rejoin = rebooted.duration(to: .now)
            } catch {
                rejoinError = error
            }
            kills.append(record)
            print(line(record))
            fflush(nil)
            if let rejoinError { throw BenchError("\(victim) did not come back after kill \(number): \(rejoinError)") }
        }
    }

    /// Waits until every VM runs exactly once on a host `allowed` accepts; returns the time since
    /// `start`, or nil when `timeout` (from `start`) passed first.
    static func waitUntilEachRunsOnce(_ cluster: HACluster, since start: ContinuousClock.Instant, within timeout: Duration,
                                      interrupt: Interrupt, allowed: (String) -> Bool = { _ in true }) async throws -> Duration? {
        while start.duration(to: .now) < timeout {
            try interrupt.check()
            let copies = cluster.copies
            let now = start.duration(to: .now)
            if cluster.vms.allSatisfy({ copies[$0].map { $0.count == 1 && allowed($0[0]) } ?? false }) { return now }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The host whose etcd member leads now, by `endpoint status` through every member; nil when
    /// etcd does not say.
    static func etcdLeader(_ cluster: HACluster) -> String? {
        let testbed = cluster.testbed
        guard let text = try? testbed.etcdctl(via: testbed.hosts[0], ["endpoint", "status", "-w", "json"],
                                              endpoints: testbed.etcdEndpoints),
              let entries = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] else { return nil }
        for entry in entries {
            guard let endpoint = entry["Endpoint"] as? String, let status = entry["Status"] as? [String: Any],
                  let header = status["header"] as? [String: Any], let member = header["member_id"], let leader = status["leader"],
                  "\(member)" == "\(leader)" else { continue }
            return testbed.hosts.first { testbed.etcdEndpoint($0) == endpoint }?.name
        }
        return nil
    }

    /// Waits until every VM runs once, every host's agent holds a lease (its key under
    /// /virtsync/members/) and all three etcd members answer a health check, asking etcd from
    /// inside `host`; throws after `settleDeadline` with what was still missing.
    static func settle(_ cluster: HACluster, via host: Testbed.Host, interrupt: Interrupt) async throws {
        let start = ContinuousClock.now
        let testbed = cluster.testbed
        let names = Set(testbed.hosts.map(\.name))
        var missing = ""
        while start.duration(to: .now) < settleDeadline {
            try interrupt.check()
            let copies = cluster.copies
            if cluster.vms.allSatisfy({ copies[$0]?.count == 1 }) {
                do {
                    let keys = try testbed.etcdctl(via: host, ["get", "--prefix", "/virtsync/members/", "--keys-only"],
                                                   endpoints: testbed.etcdEndpoints)
                    let members = Set(keys.split(separator: "\n").filter { $0.hasPrefix("/virtsync/members/") }
                        .map { String($0.dropFirst("/virtsync/members/".count)) })
                    // JSON: etcdctl 3.4 writes its text form to stderr, and exits non-zero when one is unhealthy.
                    let health = try testbed.etcdctl(via: host, ["endpoint", "health", "-w", "json"], endpoints: testbed.etcdEndpoints)
                    let healthy = health.components(separatedBy: "\"health\":true").count - 1
                    if members == names && healthy == testbed.hosts.count { return }
                    missing = "agents holding a lease: \(members.sorted()), healthy etcd members: \(healthy)"
                } catch {
                    missing = "etcd: \(error)"
                }
            } else {
                missing = "copies: \(copies)"
            }
            try await Task.sleep(for: .seconds(1))
        }
        throw BenchError("not settled within \(settleDeadline): \(missing)")
    }

    /// `kill=3 host=host-2 vms_moved=4 etcd_leader=0 recovery_s=8.712 rejoin_s=19.804 at=2025-...Z`
    static func line(_ kill: Kill) -> String {
        let recovery = kill.recovery.map { String(format: "%.3f", seconds($0)) } ?? "timeout"
        let rejoin = kill.rejoin.map { String(format: "%.3f", seconds($0)) } ?? "failed"
        let at = ISO8601DateFormatter.string(from: kill.at, timeZone: TimeZone(secondsFromGMT: 0) ?? .current,
                                             formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let leader = kill.ledEtcd.map { $0 ? "1" : "0" } ?? "unknown"
        return "kill=\(kill.number) host=\(kill.host) vms_moved=\(kill.moved) etcd_leader=\(leader) recovery_s=\(recovery) "
            + "rejoin_s=\(rejoin) at=\(at)"
    }

    /// The key=value summary line, then the same for humans with the verdict on the target.
    static func summarize(_ kills: [Kill], count: Int, vms: Int, report: DoubleRunChecker.Report?, logs: String?) {
        let times = kills.compactMap(\.recovery).map(seconds).sorted()
        let recovered = times.count
        let doubleRuns = report?.doubleRuns.count ?? -1
        let median = percentile(times, 0.5), p90 = percentile(times, 0.9), longest = times.last
        let met = recovered == count && kills.count == count && (longest ?? .infinity) < targetSeconds && doubleRuns == 0
        func value(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "none" }
        let gap = report.map { seconds($0.longestGap) }
        print("")
        print("ha_kills=\(count) ha_kills_done=\(kills.count) ha_recovered=\(recovered) ha_vms=\(vms) watchdog=off "
              + "lease_ttl_s=\(format(HACluster.leaseTTL)) recovery_median_s=\(value(median)) recovery_p90_s=\(value(p90)) "
              + "recovery_max_s=\(value(longest)) double_runs=\(doubleRuns) checker_polls=\(report?.polls ?? 0) "
              + "checker_longest_gap_s=\(value(gap)) target=\(met ? "MET" : "MISSED")")
        print("")
        print("| Measure | virtsync HA (3 hosts, \(vms) VMs, TTL \(format(HACluster.leaseTTL)) s, watchdog off) |")
        print("|---|---|")
        print("| Kills whose VMs all ran elsewhere | \(recovered) of \(count)\(kills.count < count ? " (\(kills.count) done)" : "") |")
        print("| Kill to every VM running elsewhere, median / p90 / max | "
              + (times.isEmpty ? "none |" : String(format: "%.2f / %.2f / %.2f s |", median ?? 0, p90 ?? 0, longest ?? 0)))
        print("| Double runs seen | \(report.map { "\($0.doubleRuns.count)" } ?? "unknown") "
              + "(/proc read \(report?.polls ?? 0) times, longest gap \(value(gap)) s) |")
        for (led, label) in [(true, "led"), (false, "did not lead")] {
            let subset = kills.filter { $0.ledEtcd == led }.compactMap(\.recovery).map(seconds).sorted()
            guard let last = subset.last else { continue }
            print(String(format: "| … when the killed host's etcd member \(label), median / max (n=%d) | %.2f / %.2f s |",
                         subset.count, percentile(subset, 0.5) ?? 0, last))
        }
        print("| Target: max < \(format(targetSeconds)) s and 0 double runs | **\(met ? "MET" : "MISSED")** |")
        if let report, !report.doubleRuns.isEmpty { print("\n\(report)") }
        if let logs { print("\nagent and etcd logs kept in \(logs)") }
        fflush(nil)
    }

    /// Nearest-rank percentile of sorted `values`; nil when empty.
    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let rank = Int((p * Double(values.count)).rounded(.up))
        return values[min(values.count, max(1, rank)) - 1]
    }

    /// Copies each host's agent log and etcd log out of the cluster's directories (which go with
    /// it), to read slow recoveries afterwards; returns where, or nil when nothing was copied.
    static func keepLogs(_ cluster: HACluster) -> String? {
        let directory = NSTemporaryDirectory() + "virtsync-habench-\(getpid())"
        let files = FileManager.default
        guard (try? files.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else { return nil }
        for host in cluster.testbed.hosts {
            try? files.copyItem(atPath: cluster.agentLog(host), toPath: "\(directory)/\(host.name)-agent.log")
            for log in ["etcd", "libvirtd", "virtlockd", "virtlogd", "watchdog"] {
                try? files.copyItem(atPath: cluster.testbed.logDirectory(host) + "/\(log).log", toPath: "\(directory)/\(host.name)-\(log).log")
            }
            try? daemonStacks(cluster.testbed, host).write(toFile: "\(directory)/\(host.name)-daemons.txt", atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// Where each thread of the host's libvirt daemons waits (state, kernel function, kernel
    /// stack): what a hung libvirtd leaves to read once the campaign is over.
    static func daemonStacks(_ testbed: Testbed, _ host: Testbed.Host) -> String {
        var out = ""
        for daemon in ["libvirtd", "virtlockd", "virtlogd"] {
            let pidFile = "\(testbed.directory)/hosts/\(host.name)/run/\(daemon).pid"
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                out += "\(daemon): no pid file\n"
                continue
            }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            out += "\(daemon) pid \(pid), \(tasks.count) threads\n"
            for task in tasks.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
                let base = "/proc/\(pid)/task/\(task)"
                let comm = (try? String(contentsOfFile: "\(base)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                let wchan = (try? String(contentsOfFile: "\(base)/wchan", encoding: .utf8)) ?? "?"
                let state = (try? String(contentsOfFile: "\(base)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first.map(String.init) ?? "?"
                out += "  \(task) \(comm) \(state) \(wchan)\n"
                if let stack = try? String(contentsOfFile: "\(base)/stack", encoding: .utf8), !stack.isEmpty {
                    out += stack.split(separator: "\n").map { "    \($0)\n" }.joined()
                }
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}

/// SIGINT, caught: the benchmark notices it between its steps, tears the testbed down and exits.
final class Interrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var isRaised = false
    private var source: DispatchSourceSignal?

    /// Catches SIGINT from now on (children spawned later get the default action back).
    static func install() -> Interrupt {
        let interrupt = Interrupt()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { interrupt.raise() }
        source.resume()
        interrupt.source = source
        return interrupt
    }

    /// Whether SIGINT came.
    var raised: Bool { lock.withLock { isRaised } }

    private func raise() {
        lock.withLock { isRaised = true }
        print("\nSIGINT: stopping after the current step, then tearing the testbed down")
        fflush(nil)
    }

    /// Throws once SIGINT came.
    func check() throws {
        if raised { throw BenchError("interrupted by SIGINT") }
    }
}
