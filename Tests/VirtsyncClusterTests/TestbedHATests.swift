import Foundation
import Testing
import VirtsyncEngine
@testable import VirtsyncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine runs the testbed's HA pieces, and why not.
private enum HAGate {
    static let disabledReason: String? = {
        if ProcessInfo.processInfo.environment["VIRTSYNC_CLUSTER_TESTS"] == "0" { return "VIRTSYNC_CLUSTER_TESTS=0" }
        return Testbed.unavailableReason.map { "no multi-host testbed here: \($0)" }
    }()
    static let etcdMissing: String? = {
        for tool in ["etcd", "etcdctl"] where (try? Command.locate(tool)) == nil {
            return "\(tool) not found (apt-get install etcd-server etcd-client)"
        }
        return nil
    }()
    static var enabled: Bool { disabledReason == nil }
    static var comment: Comment { Comment(rawValue: disabledReason ?? "") }
    static var etcdEnabled: Bool { etcdMissing == nil }
    static var etcdComment: Comment { Comment(rawValue: etcdMissing ?? "") }
}

/// What HA failover tests stand on: an etcd cluster across the testbed's hosts, an emulated
/// hardware watchdog per host, long-lived processes inside a host, and a watcher that catches a
/// guest running on two hosts at once.
@Suite("Testbed for HA: etcd across hosts, watchdogs, processes in hosts, double runs", .serialized,
       .enabled(if: HAGate.enabled, HAGate.comment))
struct TestbedHATests {
    @Test("a three-member etcd cluster across the hosts: written via one host, read via another; a killed host leaves two healthy members, and its member rejoins with its data after a reboot", .enabled(if: HAGate.etcdEnabled, HAGate.etcdComment))
    func etcdAcrossHosts() throws {
        let testbed = try Testbed.up(hosts: 3)
        defer { try? testbed.down() }
        let (first, second, third) = (testbed.hosts[0], testbed.hosts[1], testbed.hosts[2])
        let started = ContinuousClock.now
        let endpoints = try testbed.startEtcd()
        print("etcd-up: 3 members healthy in \(ContinuousClock.now - started)")
        #expect(endpoints == testbed.hosts.map { "http://\($0.address):2379" })
        #expect(endpoints == testbed.etcdEndpoints)
        for host in testbed.hosts {
            #expect(etcdProcesses(testbed, host).count == 1, "one member inside \(host)")
        }
        let members = try testbed.etcdctl(via: first, ["member", "list"])
        #expect(members.split(separator: "\n").count == 3, "\(members)")

        try testbed.etcdctl(via: first, ["put", "ha/probe", "from-host-1"])
        #expect(try testbed.etcdctl(via: second, ["get", "ha/probe", "--print-value-only"]).trimmed == "from-host-1")

        // Power loss: `kill` finds the member by its namespaces.
        try testbed.kill(third)
        #expect(etcdProcesses(testbed, third).isEmpty)
        let survivors = [testbed.etcdEndpoint(first), testbed.etcdEndpoint(second)]
        let health = try testbed.etcdctl(via: first, ["endpoint", "health", "-w", "json"], endpoints: survivors)
        #expect(health.components(separatedBy: #""health":true"#).count == 3, "\(health)")
        try testbed.etcdctl(via: second, ["put", "ha/while-down", "written-without-host-3"])
        #expect(throws: TestbedError.self) { try testbed.etcdctl(via: third, ["get", "ha/probe"], timeout: 1.5) }

        try testbed.reboot(third)
        let restarted = ContinuousClock.now
        try testbed.restartEtcd(third)
        print("etcd-start after a reboot: healthy in \(ContinuousClock.now - restarted)")
        #expect(try testbed.etcdctl(via: third, ["get", "ha/while-down", "--print-value-only"]).trimmed == "written-without-host-3")
        #expect(try testbed.etcdctl(via: third, ["member", "list"]).split(separator: "\n").count == 3)
    }

    @Test("a partitioned host's member cannot serve a read while the other two can, and serves again once healed",
          .enabled(if: HAGate.etcdEnabled, HAGate.etcdComment))
    func etcdPartition() throws {
        let testbed = try Testbed.up(hosts: 3)
        defer { try? testbed.down() }
        let (first, second, third) = (testbed.hosts[0], testbed.hosts[1], testbed.hosts[2])
        try testbed.startEtcd()
        try testbed.etcdctl(via: first, ["put", "ha/key", "before"])

        try testbed.partition(second)
        let refused = #expect(throws: TestbedError.self) {
            try testbed.etcdctl(via: second, ["get", "ha/key"], timeout: 1.5)
        }
        #expect(refused?.stderr.contains("deadline exceeded") == true, "\(String(describing: refused))")
        // Its member is alive and has the data; only a linearizable read needs the others.
        #expect(try testbed.etcdctl(via: second, ["get", "ha/key", "--consistency", "s", "--print-value-only"]).trimmed == "before")
        // When the cut-off member led, the other two elect a leader first (seconds on a busy machine).
        try eventually(seconds: 20) { try testbed.etcdctl(via: first, ["put", "ha/key", "during"], timeout: 3) }
        #expect(try testbed.etcdctl(via: third, ["get", "ha/key", "--print-value-only"]).trimmed == "during")

        try testbed.heal(second)
        let value = try eventually(seconds: 15) {
            try testbed.etcdctl(via: second, ["get", "ha/key", "--print-value-only"], timeout: 2).trimmed
        }
        #expect(value == "during")
    }

    @Test("the watchdog kills its frozen host once the pets stop, tolerates a writer reopening it, never fires unarmed, and down stops it")
    func watchdogFires() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let (quiet, guarded) = (testbed.hosts[0], testbed.hosts[1])
        let device = try testbed.startWatchdog(guarded, timeout: 1.5)
        #expect(device == "/run/libvirt/watchdog")
        try testbed.startWatchdog(quiet, timeout: 1)
        let quietPid = try String(contentsOfFile: "\(testbed.directory)/hosts/\(quiet.name)/watchdog.pid", encoding: .utf8).trimmed

        // The first pet from inside the host, at the path the agent is given.
        let fromInside = try testbed.exec(guarded, ["sh", "-c", "test -p \(device) && printf . >\(device)"])
        #expect(fromInside.succeeded, "\(fromInside.stderr)")
        // Then through the agent's own writer, from the root namespace, reopened halfway as after an
        // agent restart; 3 s of pets outlast the 1.5 s timeout twice over.
        var lastPet = Date()
        for round in 0..<2 {
            let watchdog = try FileWatchdog(path: testbed.watchdogFIFO(guarded), timeout: .seconds(2), minimumInterval: .zero)
            for _ in 0..<6 {
                try watchdog.pet()
                lastPet = Date()
                Thread.sleep(forTimeInterval: 0.25)
            }
            #expect(testbed.watchdogFired(guarded) == nil, "fired while petted (round \(round))")
        }
        #expect(try testbed.status()[guarded.name] == "running")

        // The host hangs: only the watchdog can still act.
        try testbed.freeze(guarded)
        var killedAt: Date?
        while killedAt == nil && Date().timeIntervalSince(lastPet) < 1.5 + 3 {
            if try testbed.status()[guarded.name] == "killed" { killedAt = Date() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let fired = try #require(testbed.watchdogFired(guarded), "the watchdog log: \(log(testbed.watchdogLog(guarded)))")
        let killed = try #require(killedAt, "not killed 4.5 s after the last pet")
        let firedAfter = fired.timeIntervalSince(lastPet), killedAfter = killed.timeIntervalSince(lastPet)
        print("watchdog (timeout 1.5 s): fired \(firedAfter) s after the last pet, host seen killed after \(killedAfter) s")
        #expect(firedAfter >= 1.4 && firedAfter < 1.5 + 1, "fired \(firedAfter) s after the last pet")
        #expect(killedAfter < 1.5 + 2, "killed \(killedAfter) s after the last pet")
        #expect(log(testbed.watchdogLog(guarded)).contains("killed host-2"))

        // Never petted, never armed: it must not have fired, and down must end it.
        #expect(testbed.watchdogFired(quiet) == nil)
        #expect(try testbed.status()[quiet.name] == "running")
        #expect(alive(quietPid))
        try testbed.down()
        #expect(!alive(quietPid), "watchdog \(quietPid) survived down")
    }

    @Test("a spawned process runs inside its host with no wrapper outside, logs to the given file, and dies with the host")
    func spawnInHost() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let host = testbed.hosts[1]
        let logPath = "\(testbed.logDirectory(host))/spawned.log"
        let child = try testbed.spawn(host, ["sh", "-c", "echo \"$(hostname) $PROBE\"; exec sleep 600"], logPath: logPath,
                                      environment: ["PROBE": "probe-value"])
        let namespace = try #require(netNamespace("/run/netns/\(testbed.name)-\(host.name)"))
        // The child itself enters the host (bash execs nsenter, which execs the command).
        _ = try eventually(seconds: 10) { () throws -> Bool in
            guard netNamespace("/proc/\(child.pid)/ns/net") == namespace,
                  (try? String(contentsOfFile: "/proc/\(child.pid)/comm", encoding: .utf8))?.trimmed == "sleep" else {
                throw NotYet("pid \(child.pid) not yet in \(host)")
            }
            return true
        }
        #expect(log(logPath).trimmed == "host-2 probe-value")
        #expect(child.isRunning)

        try testbed.kill(host)
        let deadline = Date().addingTimeInterval(3)
        while child.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(!child.isRunning, "the spawned process survived kill")
        #expect(child.status.map { $0 & 0x7f } == SIGKILL)
    }

    @Test("the double-run checker sees one copy as none, two copies on two hosts (one frozen) as a double run, a live migration as one unless -incoming processes are ignored or it is migration-aware, and a fresh start beside a migrated copy as one when migration-aware")
    func doubleRunChecker() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let (first, second) = (testbed.hosts[0], testbed.hosts[1])
        let guest = "tiny-" + Testbed.uniqueName(prefix: "")
        let everything = DoubleRunChecker.start(testbed, guests: [guest])
        let single = DoubleRunChecker.start(testbed, guests: [guest])

        try testbed.startTinyGuest(on: first, name: guest)
        _ = try eventually(seconds: 5) { try expectCopies(single, guest, [first.name]) }
        Thread.sleep(forTimeInterval: 0.3)
        let one = single.stop()
        #expect(one.doubleRuns.isEmpty, "\(one)")
        #expect(one.polls >= 10, "\(one)")

        try testbed.startTinyGuest(on: second, name: guest)
        _ = try eventually(seconds: 5) { try expectCopies(everything, guest, [first.name, second.name]) }
        // A stopped QEMU is still a copy: a frozen host's guests run again the moment it thaws.
        try testbed.freeze(second)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(everything.copies()[guest] == [first.name, second.name])
        try testbed.thaw(second)
        try testbed.virsh(second, ["destroy", guest])
        try testbed.virsh(second, ["undefine", guest])
        _ = try eventually(seconds: 5) { try expectCopies(everything, guest, [first.name]) }
        let two = everything.stop()
        print("double-run checker: \(two)")
        #expect(two.doubleRuns.count == 1, "\(two)")
        let run = try #require(two.doubleRuns.first)
        #expect(run.guest == guest && run.hosts == [first.name, second.name], "\(run)")
        #expect(run.polls >= 5 && run.lastSeen.timeIntervalSince(run.firstSeen) >= 0.3, "\(run)")
        // It must look at least every 50 ms; a loaded 2-core machine may delay a poll now and then.
        #expect(two.longestGap < .milliseconds(500), "\(two)")

        // During a live migration both QEMU processes exist for a while.
        let counting = DoubleRunChecker.start(testbed, guests: [guest])
        let ignoring = DoubleRunChecker.start(testbed, guests: [guest], ignoringIncoming: true)
        let aware = DoubleRunChecker.start(testbed, guests: [guest], incoming: .migrationAware)
        try testbed.migrate(guest, from: first, to: second)
        let counted = counting.stop()
        #expect(counted.doubleRuns.count == 1 && counted.migrations.isEmpty, "\(counted)")
        #expect(aware.doubleRuns().isEmpty)

        // The migrated copy keeps -incoming for its whole life: a fresh start beside it is a double
        // run that only the migration-aware count sees.
        try testbed.startTinyGuest(on: first, name: guest)
        _ = try eventually(seconds: 5) { try expectCopies(aware, guest, [first.name, second.name]) }
        let ignored = ignoring.stop(), migrationAware = aware.stop()
        #expect(ignored.doubleRuns.isEmpty && ignored.ignoredIncoming == 1, "\(ignored)")
        #expect(migrationAware.migrations.map(\.hosts) == [[first.name, second.name]], "\(migrationAware)")
        #expect(migrationAware.doubleRuns.map(\.hosts) == [[first.name, second.name]], "\(migrationAware)")
        print("migration-aware double-run checker: \(migrationAware)")
    }
}

/// The double-run checker's counting rule on made-up copies, and its /proc reading on stand-in
/// QEMU processes: no testbed needed.
@Suite("Double-run checker: which copies of a guest are a double run")
struct DoubleRunRuleTests {
    typealias Copy = DoubleRunChecker.Copy

    /// `guest`'s copies at one poll, checked in both orders (the rule must not depend on it).
    private func overlap(_ copies: [Copy], _ incoming: DoubleRunChecker.Incoming) -> DoubleRunChecker.Overlap? {
        let forward = DoubleRunChecker.overlap(of: copies, counting: incoming)
        return DoubleRunChecker.overlap(of: copies.reversed(), counting: incoming) == forward ? forward : nil
    }

    @Test("a migration in flight (an older plain copy, a newer -incoming one) is a migration when migration-aware, a double run when counted, nothing when -incoming is ignored")
    func migrationInFlight() {
        let copies = [Copy(host: "host-1", pid: 900, startTicks: 1_000, incoming: false),
                      Copy(host: "host-2", pid: 400, startTicks: 5_000, incoming: true)]
        #expect(overlap(copies, .migrationAware) == .migration)
        #expect(overlap(copies, .counted) == .doubleRun)
        #expect(overlap(copies, .ignored) == DoubleRunChecker.Overlap.none)
    }

    @Test("a fresh start beside a migrated copy (an older -incoming copy, a newer plain one) is a double run")
    func freshStartBesideMigratedCopy() {
        let copies = [Copy(host: "host-2", pid: 400, startTicks: 5_000, incoming: true),
                      Copy(host: "host-3", pid: 700, startTicks: 9_000, incoming: false)]
        #expect(overlap(copies, .migrationAware) == .doubleRun)
        #expect(overlap(copies, .ignored) == DoubleRunChecker.Overlap.none, "the gap migration-aware counting closes")
    }

    @Test("a failback (migrating a migrated copy: both -incoming, the newer one the destination) is a migration")
    func failback() {
        let copies = [Copy(host: "host-2", pid: 400, startTicks: 5_000, incoming: true),
                      Copy(host: "host-1", pid: 800, startTicks: 9_000, incoming: true)]
        #expect(overlap(copies, .migrationAware) == .migration)
    }

    @Test("three copies on three hosts are a double run, even when the newest is -incoming")
    func threeCopies() {
        let copies = [Copy(host: "host-1", pid: 100, startTicks: 1_000, incoming: false),
                      Copy(host: "host-2", pid: 200, startTicks: 2_000, incoming: false),
                      Copy(host: "host-3", pid: 300, startTicks: 3_000, incoming: true)]
        #expect(overlap(copies, .migrationAware) == .doubleRun)
        #expect(overlap(copies, .counted) == .doubleRun)
    }

    @Test("two plain copies on two hosts are a double run however -incoming is counted")
    func twoPlainCopies() {
        let copies = [Copy(host: "host-1", pid: 100, startTicks: 1_000, incoming: false),
                      Copy(host: "host-2", pid: 200, startTicks: 2_000, incoming: false)]
        for incoming in [DoubleRunChecker.Incoming.counted, .ignored, .migrationAware] {
            #expect(overlap(copies, incoming) == .doubleRun, "\(incoming)")
        }
    }

    @Test("a single copy, no copy, or two copies on one host are no overlap")
    func singleHost() {
        let single = [Copy(host: "host-1", pid: 100, startTicks: 1_000, incoming: false)]
        let oneHost = single + [Copy(host: "host-1", pid: 200, startTicks: 2_000, incoming: true)]
        for incoming in [DoubleRunChecker.Incoming.counted, .ignored, .migrationAware] {
            #expect(overlap(single, incoming) == DoubleRunChecker.Overlap.none, "\(incoming)")
            #expect(overlap([], incoming) == DoubleRunChecker.Overlap.none, "\(incoming)")
            #expect(overlap(oneHost, incoming) == DoubleRunChecker.Overlap.none, "\(incoming)")
        }
    }

    @Test("two copies started in the same clock tick cannot be ordered and are a double run")
    func sameTick() {
        let copies = [Copy(host: "host-1", pid: 100, startTicks: 1_000, incoming: false),
                      Copy(host: "host-2", pid: 200, startTicks: 1_000, incoming: true)]
        #expect(overlap(copies, .migrationAware) == .doubleRun)
    }

    @Test("the start time is field 22 of /proc/PID/stat, counted past a command name holding spaces and parentheses")
    func startTicksFromStat() {
        let tail = "S 1 2 3 0 -1 4194560 10 0 0 0 5 6 0 0 20 0 3 0 123456 1000 200 18446744073709551615"
        #expect(ProcessScanner.startTicks(stat: "4242 (qemu-system-x86) \(tail)\n") == 123_456)
        #expect(ProcessScanner.startTicks(stat: "4242 (a) b) (c) \(tail)") == 123_456)  // the name is "a) b) (c"
        #expect(ProcessScanner.startTicks(stat: "4242 (qemu-system-x86) S 1 2 3") == nil)
        #expect(ProcessScanner.startTicks(stat: "") == nil)
    }

    @Test("the scanner reads the guest, -incoming flag and start time of qemu-system-* processes, once per process")
    func scannerOnStandIns() throws {
        // A copy of the shell named qemu-system-x86_64 (/proc/PID/exe names the copy, where a
        // symlink would name the shell), blocked opening a FIFO nobody writes: no child to leave behind.
        let scratch = try ScratchDirectory(prefix: "double-run-scan")
        let qemu = scratch.path("qemu-system-x86_64"), fifo = scratch.path("fifo")
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path, toPath: qemu)
        #expect(mkfifo(fifo, 0o600) == 0)
        let guest = "standin-" + UUID().uuidString.prefix(8)
        func spawn(_ extra: [String]) throws -> ChildProcess {
            // The copy was just written: a child another test forks meanwhile may still hold its
            // write descriptor for a moment, and exec then fails with ETXTBSY ("Text file busy").
            for attempt in 1... {
                do {
                    return try ChildProcess(executable: qemu, arguments: ["-c", "read line < \(fifo)", "-name", "guest=\(guest),debug-threads=on"] + extra,
                                            environment: ["PATH": "/usr/bin:/bin"], outputPath: scratch.path("output"))
                } catch where attempt < 40 && "\(error)".contains("Text file busy") {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            fatalError("unreachable")
        }
        let source = try spawn([])
        defer { source.terminate() }
        // Start times are counted in ticks of 10 ms: the destination must start a few ticks later.
        Thread.sleep(forTimeInterval: 0.05)
        let destination = try spawn(["-incoming", "tcp:127.0.0.1:49152"])
        defer { destination.terminate() }

        let scanner = ProcessScanner()
        let found = try eventually(seconds: 5) { () -> [QEMUProcess] in
            let mine = scanner.scan().filter { $0.guest == guest }.sorted { $0.startTicks < $1.startTicks }
            guard mine.count == 2 else { throw NotYet("stand-ins seen: \(mine)") }
            return mine
        }
        #expect(found.map(\.pid) == [source.pid, destination.pid], "\(found)")
        #expect(found.map(\.incoming) == [false, true], "\(found)")
        #expect(found[0].startTicks < found[1].startTicks, "\(found)")
        #expect(scanner.scan().filter { $0.guest == guest } .sorted { $0.pid < $1.pid } == found.sorted { $0.pid < $1.pid })

        let copies = zip(["host-1", "host-2"], found).map {
            Copy(host: $0, pid: $1.pid, startTicks: $1.startTicks, incoming: $1.incoming)
        }
        #expect(overlap(copies, .migrationAware) == .migration)
    }
}

// MARK: - Helpers

private extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// A condition `eventually` waits for that does not hold yet.
private struct NotYet: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Retries `body` every 0.2 s until it returns without throwing, for up to `seconds`.
private func eventually<T>(seconds: TimeInterval, _ body: () throws -> T) throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        do {
            return try body()
        } catch where Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}

private func expectCopies(_ checker: DoubleRunChecker, _ guest: String, _ hosts: [String]) throws -> Bool {
    let copies = checker.copies()[guest] ?? []
    guard copies == hosts else {
        throw NotYet("copies of \(guest): \(copies), expected \(hosts)")
    }
    return true
}

private func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

/// Whether process `pid` exists and is no zombie (a detached process waits for a slow PID 1 to
/// reap it).
private func alive(_ pid: String) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
}

/// The inode of a network namespace file or /proc/PID/ns/net link.
private func netNamespace(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
}

/// The etcd processes in `host`'s network namespace.
private func etcdProcesses(_ testbed: Testbed, _ host: Testbed.Host) -> [String] {
    guard let namespace = netNamespace("/run/netns/\(testbed.name)-\(host.name)") else { return [] }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
        netNamespace("/proc/\(pid)/ns/net") == namespace
            && (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmed == "etcd"
    }
}
