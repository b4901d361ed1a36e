import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncTestSupport

/// HA failover on the testbed, end to end: real etcd (a member inside each host), a real agent
/// inside each host, tiny guests marked `ha: true`, and a checker that reads every host's QEMU
/// processes from /proc every 25 ms for the whole test and fails on any moment with two copies.
@Suite("HA failover on the testbed", .serialized,
       .enabled(if: Testbed.available && VirtsyncBinary.isBuilt, "needs root, namespaces, libvirt, etcd and the built virtsync"))
struct HAFailoverTests {
    /// Starts the agents and waits until every HA VM runs once; false (with the issue recorded)
    /// when that never happens.
    static func started(_ cluster: HACluster) async throws -> Bool {
        try cluster.start()
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(90)) != nil else {
            Issue.record("every HA VM runs once: \(cluster.copies)\n\(cluster.logs())")
            return false
        }
        return true
    }

    @Test("a killed host's HA VMs run on the other hosts within seconds, never twice; the owner records move with higher epochs")
    func killedHost() async throws {
        let cluster = try await HACluster(vms: 4, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        try cluster.start()
        let first = try await cluster.waitUntilEachRunsOnce(within: .seconds(90))
        #expect(first != nil, "every HA VM runs once: \(cluster.copies)\n\(cluster.logs())")
        guard first != nil else { return }

        let victim = cluster.busiest
        let survivor = try #require(cluster.testbed.hosts.first { $0 != victim })
        let lost = cluster.vms.filter { cluster.copies[$0] == [victim.name] }
        try cluster.testbed.kill(victim)
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(40)) { $0 != victim.name }
        #expect(recovered != nil, "\(lost) run elsewhere after \(victim) was killed: \(cluster.copies)\n\(cluster.logs())")
        if let recovered {
            // TTL 5 s, guard 1 s, start ~0.5 s; etcd may add an election when the dead member led.
            #expect(recovered < .seconds(15), "recovered after \(recovered)")
            print("HA failover: \(lost.count) VM(s) of \(victim) ran elsewhere \(recovered) after the kill")
        }
        let owners = try cluster.owners(via: survivor)
        for vm in cluster.vms { #expect(owners[vm] != nil && owners[vm] != victim.name, "\(vm) owned by \(owners[vm] ?? "nobody")") }

        // What an operator sees: the cluster from etcd, and the taker's own status.
        let config = cluster.scratch.path("\(survivor.name)/agent.yaml")
        let view = try cluster.testbed.exec(survivor, [VirtsyncBinary.path, "status", "--cluster", "--config", config])
        #expect(view.status == 0, "\(view.stderr)")
        #expect(!view.stdout.contains("\(victim.name)  "), "the dead host is no member:\n\(view.stdout)")
        for vm in lost { #expect(view.stdout.contains(vm) && view.stdout.contains("taken over from \(victim.name)"), "\(view.stdout)") }
        let taker = try #require(cluster.testbed.hosts.first { $0.name == owners[lost.first ?? ""] })
        func status(_ host: Testbed.Host) throws -> CommandResult {
            try cluster.testbed.exec(host, [VirtsyncBinary.path, "status", "--config", cluster.scratch.path("\(host.name)/agent.yaml")])
        }
        // The status file is written once the start has returned, a moment after QEMU runs.
        var own = try status(taker)
        for _ in 0..<20 where !own.stdout.contains("from \(victim.name), epoch") {
            try await Task.sleep(for: .milliseconds(250))
            own = try status(taker)
        }
        #expect(own.stdout.contains("last takeovers") && own.stdout.contains("from \(victim.name), epoch"), "\(own.stdout)\n\(own.stderr)\n\(cluster.logs())")
        // The survivors kept their own HA VMs running: an etcd election after the dead host's
        // member led renews no lease, and had it outlasted what the timings leave a renewal
        // (HATimings.warnings), they would have stopped them at their lease deadline.
        for host in cluster.testbed.hosts where host != victim {
            let seen = try status(host)
            #expect(!seen.stdout.contains("last HA stops"), "\(host) stopped none of its HA VMs:\n\(seen.stdout)\n\(cluster.logs())")
        }
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")")
        #expect((report?.polls ?? 0) > 100)
    }

    @Test("a partitioned host stops its HA VMs before any other host starts them; healed, it runs none of them again")
    func partitionedHost() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let victim = cluster.busiest
        try cluster.testbed.partition(victim)
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(40)) { $0 != victim.name }
        #expect(recovered != nil, "the VMs of \(victim) run elsewhere: \(cluster.copies)\n\(cluster.logs())")
        // The checker saw every moment: had the cut-off host not stopped its copies first, two
        // would have run at once.
        try cluster.testbed.heal(victim)
        try await Task.sleep(for: .seconds(8))
        #expect(cluster.vms.allSatisfy { cluster.copies[$0]?.count == 1 }, "\(cluster.copies)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("a frozen host is reset by its watchdog and its VMs run elsewhere, never twice")
    func frozenHost() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: true)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let frozen = cluster.busiest
        try cluster.testbed.freeze(frozen)
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(40)) { $0 != frozen.name }
        #expect(recovered != nil, "the VMs of frozen \(frozen) run elsewhere: \(cluster.copies)\n\(cluster.logs())")
        #expect(cluster.testbed.watchdogFired(frozen) != nil, "the watchdog reset \(frozen)")
        report = cluster.tearDown()
        // A frozen host's guests count as running: had the watchdog not reset it before the
        // takeover, the checker would have seen two copies.
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("killing only the agent: its watchdog resets the host and the VMs run elsewhere, never twice")
    func killedAgent() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: true)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let orphaned = cluster.busiest
        let agent = try #require(cluster.agents[orphaned.name])
        #expect(Glibc.kill(agent.pid, SIGKILL) == 0)
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(40)) { $0 != orphaned.name }
        #expect(recovered != nil, "the VMs of \(orphaned) run elsewhere: \(cluster.copies)\n\(cluster.logs())")
        #expect(cluster.testbed.watchdogFired(orphaned) != nil, "the watchdog reset \(orphaned)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("a rebooted host with its agent back starts none of its stale copies; an etcd member loss alone changes nothing")
    func rebootedHost() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        // One etcd member stops (its host and agent stay): nothing moves.
        let before = cluster.copies
        let quiet = try #require(cluster.testbed.hosts.last)
        // Only the member in this host's network namespace (every host's processes are visible).
        let killed = try cluster.testbed.exec(quiet, ["sh", "-c", "pkill -KILL --ns $$ --nslist net -x etcd"])
        #expect(killed.status == 0, "\(killed.stderr)")
        try await Task.sleep(for: .seconds(HACluster.leaseTTL + 3))
        #expect(cluster.copies == before, "an etcd member loss moved VMs: \(before) → \(cluster.copies)\n\(cluster.logs())")
        _ = try cluster.testbed.restartEtcd(quiet)

        let victim = cluster.busiest
        try cluster.testbed.kill(victim)
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(40), allowed: { $0 != victim.name }) != nil else {
            Issue.record("the VMs of \(victim) run elsewhere: \(cluster.copies)\n\(cluster.logs())")
            return
        }
        // The host boots again with its old definitions (autostart off), its etcd member and
        // its agent: it must run none of the VMs it lost.
        try cluster.testbed.reboot(victim)
        _ = try cluster.testbed.restartEtcd(victim)
        try cluster.startAgent(victim)
        try await Task.sleep(for: .seconds(12))
        let copies = cluster.copies
        #expect(cluster.vms.allSatisfy { copies[$0]?.count == 1 && copies[$0]?.first != victim.name }, "\(copies)\n\(cluster.logs())")
        let defined = try cluster.testbed.virsh(victim, ["list", "--all", "--name"])
        #expect(cluster.vms.contains { defined.contains($0) }, "the stale definitions are still on \(victim) (kept, never run)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("etcd loses its quorum: every host stops its HA VMs by its deadline and none starts any; with quorum back they run again, once")
    func quorumLost() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        // Two of the three members die; the hosts, their agents and the guests stay.
        let lost = Array(cluster.testbed.hosts.prefix(2))
        for host in lost {
            let killed = try cluster.testbed.exec(host, ["sh", "-c", "pkill -KILL --ns $$ --nslist net -x etcd"])
            #expect(killed.status == 0, "\(killed.stderr)")
        }
        let cut = ContinuousClock.now
        var empty: Duration?
        while cut.duration(to: .now) < .seconds(HACluster.leaseTTL + 5) {
            if cluster.copies.isEmpty { empty = cut.duration(to: .now); break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(empty != nil, "every HA VM stops when no host can prove it owns it: \(cluster.copies)\n\(cluster.logs())")
        if let empty { #expect(empty < .seconds(HACluster.leaseTTL), "stopped \(empty) after the quorum was lost") }
        try await Task.sleep(for: .seconds(5))
        #expect(cluster.copies.isEmpty, "nothing starts without a quorum: \(cluster.copies)")

        for host in lost { _ = try cluster.testbed.restartEtcd(host) }
        let back = try await cluster.waitUntilEachRunsOnce(within: .seconds(60))
        #expect(back != nil, "with the quorum back every HA VM runs again: \(cluster.copies)\n\(cluster.logs())")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("a dead host is not unknown: a new VM is created on a live host, while its non-HA VM stays down and is reported")
    func deadHostIsNotUnknown() async throws {
        let cluster = try await HACluster(vms: 2, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        let victim = cluster.testbed.hosts[0]
        let batch = cluster.vms[0] + "-batch", fresh = cluster.vms[0] + "-fresh"
        cluster.extra = [cluster.plainVM(batch, host: victim.name)]
        try await cluster.commitSpec("a non-HA VM on \(victim.name)")
        try cluster.start()
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(90)) != nil,
              try await eventually(within: .seconds(30), { cluster.copies[batch] == [victim.name] }) else {
            Issue.record("every VM runs once: \(cluster.copies)\n\(cluster.logs())")
            return
        }
        try cluster.testbed.kill(victim)
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(40), allowed: { $0 != victim.name }) != nil else {
            Issue.record("the HA VMs run elsewhere: \(cluster.copies)\n\(cluster.logs())")
            return
        }
        cluster.extra.append(cluster.plainVM(fresh))
        try await cluster.commitSpec("a new VM while \(victim.name) is dead")
        let created = try await eventually(within: .seconds(40)) { cluster.copies[fresh]?.count == 1 }
        #expect(created, "the new VM runs on a live host although \(victim.name) is unreachable: \(cluster.copies)\n\(cluster.logs())")
        #expect(cluster.copies[batch] == nil, "the dead host's non-HA VM stays down: \(cluster.copies)")
        // The survivors' passes report the dead host as a warning, not a conflict that stalls them.
        let survivor = cluster.testbed.hosts[1]
        let status = try cluster.testbed.exec(survivor, [VirtsyncBinary.path, "status", "--config", cluster.scratch.path("\(survivor.name)/agent.yaml")])
        #expect(status.stdout.contains("known dead (lease expired): \(victim.name)"), "\(status.stdout)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    @Test("an agent restarted within its deadline resumes its lease: its HA VMs keep running, the watchdog never fires, nothing moves")
    func restartedAgentResumes() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: true)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let host = cluster.busiest
        let before = cluster.copies
        let agent = try #require(cluster.agents[host.name])
        agent.terminate(timeout: 5)  // SIGTERM: a planned restart (an upgrade)
        try cluster.startAgent(host, newWatchdog: false)
        for _ in 0..<100 {
            #expect(cluster.copies == before, "nothing moves or stops across the restart: \(before) → \(cluster.copies)")
            if cluster.copies != before { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(cluster.testbed.watchdogFired(host) == nil, "the restarted agent pets the watchdog again in time")
        let log = (try? String(contentsOfFile: cluster.agentLog(host), encoding: .utf8)) ?? ""
        #expect(log.contains("HA resumes lease"), "\(cluster.logs())")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
func eventually(within timeout: Duration, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try condition()
}
