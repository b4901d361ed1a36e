import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncTestSupport
import VirtsyncTesting

/// `virtsync-bench --ha-campaign`: randomized faults on the testbed (three hosts, a 3-member etcd,
/// a real agent in each with the emulated watchdog, tiny HA guests), one after another with time
/// to recover between them, while the `/proc` checker outside the hosts records every host's
/// guests every 25 ms. Prints a line per fault, then faults by kind, the recovery time of every
/// HA VM that went down (median, p99, max), double runs and the VMs that did not come back, why.
enum HACampaign {
    enum Kind: String, CaseIterable {
        case killHost = "kill-host"
        case rebootHost = "reboot-host"
        case partitionHost = "partition-host"
        case partitionEtcd = "partition-etcd"
        case freezeHost = "freeze-host"
        case killAgent = "kill-agent"
        case killLibvirtd = "kill-libvirtd"
        case killEtcdMember = "kill-etcd-member"
        case killEtcdLeader = "kill-etcd-leader"
    }

    /// One fault and what followed it.
    struct Outcome {
        let number: Int
        let kind: Kind
        let host: String
        /// How long the fault lasted before it was undone (a killed host: until it was rebooted).
        var held: Duration = .zero
        /// Whether the host's watchdog reset it during the fault.
        var watchdogFired = false
        /// Each VM that went down (no copy on a live, unfrozen host), with the time from the fault
        /// until it ran exactly once again; nil: not within the deadline.
        var recoveries: [String: Duration?] = [:]
        /// Why the VMs that did not come back did not.
        var why: String?
    }

    /// A VM that went down must run again within this long after the fault started.
    static let recoveryDeadline: Duration = .seconds(60)

    static func run(faults count: Int, vms: Int, seed: UInt64, etcdElection: Int) async -> Int32 {
        guard count > 0, vms > 0 else {
            print("error: --faults and --vms must be positive")
            return 2
        }
        // A lease TTL of 5 s wants elections well under the 1.5 s margin (README, HA failover).
        if let status = HABench.prepare(label: "ha-campaign", etcdElection: etcdElection) { return status }
        let interrupt = Interrupt.install()
        print("virtsync-bench --ha-campaign: \(count) faults (seed \(seed)), 3 hosts, \(vms) HA tiny VMs, lease TTL "
              + "\(HABench.format(HACluster.leaseTTL)) s, margin \(HABench.format(HACluster.margin)) s, guard "
              + "\(HABench.format(HACluster.guardTime)) s, watchdog \(HABench.format(HACluster.watchdogTimeout)) s, "
              + "etcd election \(etcdElection) ms (heartbeat \(etcdElection / 10) ms); "
              + "kinds: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        fflush(nil)
        let cluster: HACluster
        do {
            cluster = try await HACluster(vms: vms, watchdog: true, name: Testbed.uniqueName(prefix: "vscp"), etcdElection: etcdElection)
        } catch let error as TestbedError where error.code == .unavailable {
            print("ha-campaign: no testbed can run here: \(error)")
            return 3
        } catch {
            print("error: testbed, etcd or spec repository: \(error)")
            return 1
        }
        var outcomes: [Outcome] = []
        var failure: String?
        let began = ContinuousClock.now
        do {
            var campaign = Campaign(cluster: cluster, interrupt: interrupt, rng: SplitMix64(seed: seed))
            try await campaign.run(count: count) { outcome in
                outcomes.append(outcome)
                print(line(outcome))
                fflush(nil)
            }
        } catch {
            failure = "\(error)"
        }
        let logs = HABench.keepLogs(cluster)
        let report = cluster.tearDown()
        if let failure { print("error: \(failure)") }
        let ok = summarize(outcomes, count: count, vms: vms, report: report, logs: logs)
        print(String(format: "campaign: %.0f s for %d faults", began.duration(to: .now).seconds, outcomes.count))
        if interrupt.raised { return 130 }
        return failure == nil && ok ? 0 : 1
    }

    /// The faults, one after another.
    struct Campaign {
        let cluster: HACluster
        let interrupt: Interrupt
        var rng: SplitMix64
        var testbed: Testbed { cluster.testbed }

        mutating func run(count: Int, report: (Outcome) -> Void) async throws {
            let started = ContinuousClock.now
            try cluster.start()
            guard try await HABench.waitUntilEachRunsOnce(cluster, since: started, within: .seconds(180), interrupt: interrupt) != nil else {
                throw BenchError("the HA VMs never all ran once: \(cluster.copies)\n\(cluster.logs())")
            }
            try await HABench.settle(cluster, via: testbed.hosts[0], interrupt: interrupt)
            print("setup: testbed \(testbed.name); every VM runs once, 3 agents hold leases, 3 etcd members healthy after "
                  + String(format: "%.1f s", started.duration(to: .now).seconds))
            fflush(nil)
            for number in 1...count {
                try interrupt.check()
                let kind = Kind.allCases[rng.int(Kind.allCases.count)]
                var host = testbed.hosts[rng.int(testbed.hosts.count)]
                if kind == .killEtcdLeader, let leader = HABench.etcdLeader(cluster), let leading = try? testbed.host(leader) {
                    host = leading
                }
                let outcome = try await fault(number, kind, on: host)
                report(outcome)
                // Time to recover: every VM once, every agent with a lease, every etcd member
                // healthy, then a few quiet seconds (a member that just came back is still catching up).
                do {
                    try await HABench.settle(cluster, via: testbed.hosts.first { $0.name != host.name } ?? host, interrupt: interrupt)
                } catch let error as BenchError {
                    // Once more after bringing back whatever is down (a reset during the recovery).
                    print("fault=\(number): not settled (\(error)); restoring and waiting once more")
                    try restoreKilledHosts(alsoStart: testbed.hosts.filter { cluster.agents[$0.name]?.isRunning != true })
                    try await HABench.settle(cluster, via: host, interrupt: interrupt)
                }
                try await Task.sleep(for: .seconds(2))
            }
        }

        /// Injects `kind` on `host`, holds it, undoes it, and follows every VM until the ones that
        /// went down run again (or the deadline passes).
        mutating func fault(_ number: Int, _ kind: Kind, on host: Testbed.Host) async throws -> Outcome {
            var outcome = Outcome(number: number, kind: kind, host: host.name)
            var monitor = Monitor(cluster: cluster, start: .now)
            let hold: Duration = switch kind {
            case .partitionHost, .partitionEtcd: pick(4...15)
            case .freezeHost: pick(1.5...8)
            case .killAgent: pick(0.5...6)
            case .killLibvirtd, .killEtcdMember, .killEtcdLeader: pick(1...8)
            case .killHost, .rebootHost: .zero
            }
            switch kind {
            case .killHost: try testbed.kill(host)
            case .rebootHost: try testbed.reboot(host)
            case .partitionHost: try testbed.partition(host)
            case .partitionEtcd: try testbed.partitionEtcd(host)
            case .freezeHost: try testbed.freeze(host)
            case .killAgent: cluster.agents[host.name].map { _ = Glibc.kill($0.pid, SIGKILL) }
            case .killLibvirtd: try testbed.killLibvirtd(host)
            case .killEtcdMember, .killEtcdLeader: try testbed.killEtcd(host)
            }
            // A killed host stays down until its VMs ran elsewhere (or the deadline passed).
            let until = kind == .killHost ? recoveryDeadline : hold
            try await monitor.follow(for: until, interrupt: interrupt) { $0.allRecovered && kind == .killHost }
            outcome.held = monitor.start.duration(to: .now)
            let fired = testbed.watchdogFired(host).map { $0.timeIntervalSinceNow > -outcome.held.seconds - 1 } ?? false
            // A killed host's watchdog fires too, at nothing: only a reset of a live host counts.
            outcome.watchdogFired = fired && kind != .killHost
            // Undo it, unless the host was reset meanwhile (its watchdog fired).
            let killed = (try? testbed.status())?[host.name]?.contains("killed") ?? false
            if !killed {
                switch kind {
                case .partitionHost: try testbed.heal(host)
                case .partitionEtcd: try testbed.healEtcd(host)
                case .freezeHost: try testbed.thaw(host)
                case .killLibvirtd: try testbed.startLibvirtd(host)
                case .killEtcdMember, .killEtcdLeader: _ = try testbed.restartEtcd(host)
                case .killAgent: try cluster.startAgent(host, newWatchdog: false)
                case .killHost, .rebootHost: break
                }
            } else if kind == .partitionHost {
                try testbed.heal(host)
            } else if kind == .partitionEtcd {
                try testbed.healEtcd(host)
            }
            try restoreKilledHosts(alsoStart: kind == .rebootHost ? [host] : [])
            // Follow the VMs back, bringing back any host a watchdog resets meanwhile.
            while monitor.start.duration(to: .now) < recoveryDeadline {
                try await monitor.follow(for: min(.seconds(2), recoveryDeadline - monitor.start.duration(to: .now)),
                                         interrupt: interrupt) { $0.allRecovered }
                if monitor.allRecovered { break }
                try restoreKilledHosts(alsoStart: [])
            }
            // A host that lost its lease with nothing to stop is reset by its watchdog only after
            // the watchdog timeout: wait for it, and boot it again, before asking for calm.
            try await Task.sleep(for: .milliseconds(Int64((HACluster.watchdogTimeout + 1) * 1000)))
            try restoreKilledHosts(alsoStart: [])
            outcome.recoveries = monitor.recoveries
            if outcome.recoveries.values.contains(where: { $0 == nil }) {
                outcome.why = "copies \(cluster.copies); owners \((try? cluster.owners(via: testbed.hosts[0])) ?? [:]); "
                    + "hosts \((try? testbed.status()) ?? [:])"
            }
            return outcome
        }

        /// Boots every host that is down (the fault's, and any other a watchdog reset: when etcd
        /// loses its quorum every agent stops petting), starts the etcd members of all of them
        /// together (one alone may have no quorum to join), then their agents.
        func restoreKilledHosts(alsoStart started: [Testbed.Host]) throws {
            let states = try testbed.status()
            let killed = testbed.hosts.filter { states[$0.name]?.contains("killed") ?? false }
            for host in killed { try testbed.reboot(host) }
            let restart = killed + started.filter { host in !killed.contains { $0.name == host.name } }
            guard !restart.isEmpty else { return }
            _ = try testbed.startEtcd()
            for host in restart { try cluster.startAgent(host) }
        }

        mutating func pick(_ range: ClosedRange<Double>) -> Duration {
            .milliseconds(Int64(rng.double(in: range) * 1000))
        }
    }

    /// Follows every VM from a fault on: when it went down (no copy on a live, unfrozen host) and
    /// when it ran exactly once again.
    struct Monitor {
        let cluster: HACluster
        let start: ContinuousClock.Instant
        var down: Set<String> = []
        var recovered: [String: Duration] = [:]
        var unavailable: Set<String> = []
        var checkedHosts: ContinuousClock.Instant?

        var allRecovered: Bool { down.allSatisfy { recovered[$0] != nil } }
        var recoveries: [String: Duration?] { Dictionary(uniqueKeysWithValues: down.map { ($0, recovered[$0]) }) }

        /// Polls every 20 ms for `duration`, or until `done` says so.
        mutating func follow(for duration: Duration, interrupt: Interrupt, until done: (Monitor) -> Bool) async throws {
            let end = ContinuousClock.now + max(.zero, duration)
            while ContinuousClock.now < end {
                try interrupt.check()
                poll()
                if done(self) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            poll()
        }

        mutating func poll() {
            // Which hosts can serve (not killed, not frozen): asked every 300 ms.
            if checkedHosts.map({ $0.duration(to: .now) > .milliseconds(300) }) ?? true {
                checkedHosts = .now
                let states = (try? cluster.testbed.status()) ?? [:]
                unavailable = Set(states.filter { $0.value.contains("killed") || $0.value.contains("frozen") }.keys)
            }
            let copies = cluster.copies
            let now = start.duration(to: .now)
            for vm in cluster.vms {
                let live = (copies[vm] ?? []).filter { !unavailable.contains($0) }
                if live.isEmpty {
                    if recovered[vm] != nil { recovered[vm] = nil }
                    down.insert(vm)
                } else if live.count == 1, (copies[vm] ?? []).count == 1, down.contains(vm), recovered[vm] == nil {
                    recovered[vm] = now
                }
            }
        }
    }

    /// `fault=3 kind=partition-etcd host=host-2 held_s=7.210 watchdog=0 down=2 recovered=2 recovery_s=6.41,6.52`
    static func line(_ outcome: Outcome) -> String {
        let times = outcome.recoveries.sorted { $0.key < $1.key }.map { $0.value.map { String(format: "%.2f", $0.seconds) } ?? "timeout" }
        return "fault=\(outcome.number) kind=\(outcome.kind.rawValue) host=\(outcome.host) held_s=\(String(format: "%.2f", outcome.held.seconds)) "
            + "watchdog=\(outcome.watchdogFired ? 1 : 0) down=\(outcome.recoveries.count) "
            + "recovered=\(outcome.recoveries.values.filter { $0 != nil }.count)"
            + (times.isEmpty ? "" : " recovery_s=\(times.joined(separator: ","))")
            + (outcome.why.map { " why=\"\($0)\"" } ?? "")
    }

    /// Prints the summary; true when every fault ran, every VM came back and nothing ran twice.
    static func summarize(_ outcomes: [Outcome], count: Int, vms: Int, report: DoubleRunChecker.Report?, logs: String?) -> Bool {
        let times = outcomes.flatMap { $0.recoveries.values.compactMap { $0?.seconds } }.sorted()
        let lost = outcomes.flatMap { outcome in outcome.recoveries.filter { $0.value == nil }.map { "\($0.key) after fault \(outcome.number) (\(outcome.kind.rawValue) \(outcome.host))" } }
        let doubleRuns = report?.doubleRuns.count ?? -1
        let ok = outcomes.count == count && lost.isEmpty && doubleRuns == 0
        func value(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "none" }
        let gap = report.map { $0.longestGap.seconds }
        print("")
        print("ha_campaign_faults=\(count) faults_done=\(outcomes.count) vms_down=\(times.count + lost.count) vms_recovered=\(times.count) "
              + "recovery_median_s=\(value(HABench.percentile(times, 0.5))) recovery_p99_s=\(value(HABench.percentile(times, 0.99))) "
              + "recovery_max_s=\(value(times.last)) double_runs=\(doubleRuns) not_recovered=\(lost.count) "
              + "checker_polls=\(report?.polls ?? 0) checker_longest_gap_s=\(value(gap)) verdict=\(ok ? "PASS" : "FAIL")")
        print("")
        print("| Fault | injected | HA VMs down | recovered | recovery median / p99 / max | watchdog resets |")
        print("|---|---|---|---|---|---|")
        for kind in Kind.allCases {
            let subset = outcomes.filter { $0.kind == kind }
            guard !subset.isEmpty else { continue }
            let down = subset.reduce(0) { $0 + $1.recoveries.count }
            let kindTimes = subset.flatMap { $0.recoveries.values.compactMap { $0?.seconds } }.sorted()
            let distribution = kindTimes.isEmpty ? "-" : "\(value(HABench.percentile(kindTimes, 0.5))) / \(value(HABench.percentile(kindTimes, 0.99))) / \(value(kindTimes.last)) s"
            print("| \(kind.rawValue) | \(subset.count) | \(down) | \(kindTimes.count) | \(distribution) | \(subset.filter(\.watchdogFired).count) |")
        }
        print("| **all** | \(outcomes.count) | \(times.count + lost.count) | \(times.count) | "
              + (times.isEmpty ? "- |" : "\(value(HABench.percentile(times, 0.5))) / \(value(HABench.percentile(times, 0.99))) / \(value(times.last)) s |")
              + " \(outcomes.filter(\.watchdogFired).count) |")
        print("")
        print("double runs: \(report.map { "\($0.doubleRuns.count)" } ?? "unknown") (the checker read /proc \(report?.polls ?? 0) times, longest gap \(value(gap)) s)")
        print("not recovered: \(lost.isEmpty ? "none" : lost.joined(separator: "; "))")
        for outcome in outcomes where outcome.why != nil { print("  fault \(outcome.number): \(outcome.why!)") }
        if let report, !report.doubleRuns.isEmpty { print("\n\(report)") }
        if let logs { print("\nagent and etcd logs kept in \(logs)") }
        fflush(nil)
        return ok
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
