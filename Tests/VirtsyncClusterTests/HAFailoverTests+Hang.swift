import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncTestSupport

extension HAFailoverTests {
    /// What the CI fault campaign met after a reboot: a start that never returned, and every call
    /// after it timing out, while the agent held its lease. Here virtlockd is stopped (the lock
    /// manager waits for it in every start), then an HA guest's QEMU is killed: libvirtd sees it
    /// shut off, the agent starts it again, and that start hangs.
    @Test("libvirtd hung in a start: the owner fences after hypervisorHang, its watchdog resets it and the VM runs elsewhere, never twice")
    func hungLibvirtd() async throws {
        let cluster = try await HACluster(vms: 2, watchdog: true)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let vm = try #require(cluster.vms.first)
        let owner = try #require(cluster.testbed.hosts.first { cluster.copies[vm] == [$0.name] })
        // QEMU's process shows before libvirt's start returns: wait for the start to finish, so
        // the hang comes from the start after the kill (a hang in the first start is a unit test).
        try await Self.waitRunning(vm, on: owner, cluster)
        try cluster.testbed.signalDaemon(owner, "virtlockd", SIGSTOP)
        let pgrep = try cluster.testbed.exec(owner, ["/usr/bin/pgrep", "-f", "guest=\(vm),"])
        let qemu = try #require(pid_t(pgrep.stdout.split(separator: "\n").first.map(String.init) ?? ""), "QEMU of \(vm): \(pgrep)")
        let killed = ContinuousClock.now
        #expect(Glibc.kill(qemu, SIGKILL) == 0)
        // The start's deadline (30 s), hypervisorHang (2 s), the watchdog (3 s), the lease's
        // expiry and the guard, then a start elsewhere.
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(75)) { $0 != owner.name }
        #expect(recovered != nil, "\(vm) runs elsewhere: \(cluster.copies)\n\(cluster.logs())")
        #expect(cluster.testbed.watchdogFired(owner) != nil, "the watchdog reset \(owner)")
        let log = (try? String(contentsOfFile: cluster.agentLog(owner), encoding: .utf8)) ?? ""
        #expect(log.contains("start of \(vm) got no answer from libvirt"), "\(log.suffix(3000))")
        #expect(log.contains("libvirt has not answered for") && log.contains("the watchdog resets this host"), "\(log.suffix(3000))")
        print("hung libvirtd: \(vm) ran elsewhere \(killed.duration(to: .now)) after its QEMU was killed on \(owner)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    /// libvirtd itself stopped, then a running HA guest's QEMU killed: libvirtd cannot notice, so
    /// its last answer (running) goes stale; the agent reads QEMU's pid file and /proc instead.
    @Test("libvirtd hung, then a running HA guest dies: the process table shows it gone, the owner fences and the VM runs elsewhere, never twice")
    func guestDiesWhileLibvirtdHangs() async throws {
        let cluster = try await HACluster(vms: 2, watchdog: true)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        guard try await Self.started(cluster) else { return }
        let vm = try #require(cluster.vms.first)
        let owner = try #require(cluster.testbed.hosts.first { cluster.copies[vm] == [$0.name] })
        try await Self.waitRunning(vm, on: owner, cluster)
        let pgrep = try cluster.testbed.exec(owner, ["/usr/bin/pgrep", "-f", "guest=\(vm),"])
        let qemu = try #require(pid_t(pgrep.stdout.split(separator: "\n").first.map(String.init) ?? ""), "QEMU of \(vm): \(pgrep)")
        try cluster.testbed.signalDaemon(owner, "libvirtd", SIGSTOP)
        let killed = ContinuousClock.now
        #expect(Glibc.kill(qemu, SIGKILL) == 0)
        // The domain read's deadline (30 s), hypervisorHang (2 s), the watchdog (3 s), the lease's
        // expiry and the guard, then a start elsewhere.
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(75)) { $0 != owner.name }
        #expect(recovered != nil, "\(vm) runs elsewhere: \(cluster.copies)\n\(cluster.logs())")
        #expect(cluster.testbed.watchdogFired(owner) != nil, "the watchdog reset \(owner)")
        let log = (try? String(contentsOfFile: cluster.agentLog(owner), encoding: .utf8)) ?? ""
        #expect(log.contains("libvirt has not answered for") && log.contains("\(vm) is down here"), "\(log.suffix(3000))")
        print("guest died under a hung libvirtd: \(vm) ran elsewhere \(killed.duration(to: .now)) after its QEMU was killed on \(owner)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
    }

    /// Waits (up to 10 s) until libvirt on `host` reports `vm` running: its start has returned.
    static func waitRunning(_ vm: String, on host: Testbed.Host, _ cluster: HACluster) async throws {
        var state = ""
        for _ in 0..<100 {
            state = (try? cluster.testbed.virsh(host, ["domstate", vm], timeout: 10))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if state == "running" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(state == "running", "libvirt on \(host.name) reports \(vm) \(state)")
    }
}
