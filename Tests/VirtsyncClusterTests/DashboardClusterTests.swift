import Foundation
import Testing
import VirtsyncTestSupport

/// The dashboard of a testbed cluster in a real browser: three hosts with HA (etcd, an agent on
/// each), headless Chromium inside one host opening its agent's page, before and after another
/// host is killed. Screenshots go to `.build/test-artifacts/cluster-dashboard/` for review.
@Suite("dashboard of a testbed cluster", .serialized,
       .enabled(if: Testbed.available && VirtsyncBinary.isBuilt && Browser.available,
                "needs root, namespaces, libvirt, etcd, chromium and the built virtsync"))
struct DashboardClusterTests {
    /// Renders the agent's page inside `host` (its agent listens on the host's own loopback).
    static func render(_ cluster: HACluster, in host: Testbed.Host, shot: String) throws -> DashboardPage {
        let profile = cluster.scratch.path("chromium-\(host.name)")
        let file = cluster.scratch.path("\(shot).png")
        let argv = try Browser.arguments(url: "http://127.0.0.1:9479/", profile: profile, screenshot: file, budget: 3000)
        let result = try cluster.testbed.exec(host, argv, timeout: 90)
        if result.status != 0 { Issue.record("chromium in \(host.name) exited \(result.status): \(result.stderr.suffix(1500))") }
        let artifacts = try Browser.artifacts("cluster-dashboard")
        try? FileManager.default.removeItem(atPath: artifacts + "/\(shot).png")
        try? FileManager.default.copyItem(atPath: file, toPath: artifacts + "/\(shot).png")
        return DashboardPage(result.stdout)
    }

    /// Renders until `done` holds (the agents publish their reports every 2 s), at most `tries` times.
    static func render(_ cluster: HACluster, in host: Testbed.Host, shot: String, tries: Int = 15,
                       until done: (DashboardPage) -> Bool) async throws -> DashboardPage {
        var page = try render(cluster, in: host, shot: shot)
        for _ in 1..<tries where !done(page) {
            try await Task.sleep(for: .seconds(2))
            page = try render(cluster, in: host, shot: shot)
        }
        return page
    }

    @Test("each host's column shows the VMs that run there; after a host is killed, its HA VMs' failover is on the timeline")
    func failoverInTheBrowser() async throws {
        let cluster = try await HACluster(vms: 3, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        let plain = cluster.vms[0].replacingOccurrences(of: "-ha-1", with: "-plain")
        let home = cluster.testbed.hosts[0]
        cluster.extra = [cluster.plainVM(plain, host: home.name)]
        try await cluster.commitSpec("a plain VM beside the HA ones")
        try cluster.start()
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(90)) != nil else {
            Issue.record("every HA VM runs once: \(cluster.copies)\n\(cluster.logs())")
            return
        }
        let victim = cluster.busiest
        let viewer = try #require(cluster.testbed.hosts.first { $0 != victim })

        // Before: every host's column holds what runs there (QEMU processes, as the checker reads them).
        func expected() -> [String: Set<String>] {
            var out: [String: Set<String>] = [:]
            for (vm, hosts) in cluster.copies where hosts.count == 1 { out[hosts[0], default: []].insert(vm) }
            return out
        }
        var wanted = expected()
        // HA starts its VMs outside the passes; the start's lifecycle event brings a pass that reads them running.
        func running(_ page: DashboardPage, _ vm: String) -> Bool { page.html.contains(#"data-vm="\#(vm)" data-power="running""#) }
        let before = try await Self.render(cluster, in: viewer, shot: "before") { page in
            page.isReady && cluster.testbed.hosts.allSatisfy { page.vms(onHost: $0.name) == wanted[$0.name, default: []] }
                && cluster.vms.allSatisfy { running(page, $0) }
        }
        for vm in cluster.vms { #expect(running(before, vm), "\(vm) shows running: \(before.card(vm) ?? "no card")") }
        #expect(before.isReady, "\(before.html.prefix(1500))")
        #expect(before.hosts.starts(with: cluster.testbed.hosts.map(\.name)), "\(before.hosts)")
        for host in cluster.testbed.hosts {
            #expect(before.vms(onHost: host.name) == wanted[host.name, default: []], "\(host.name): \(before.vms(onHost: host.name)) vs \(wanted)")
        }
        #expect(before.vms(onHost: home.name).contains(plain) || cluster.copies[plain] == nil, "the plain VM is on its pinned host")
        for vm in cluster.vms { #expect(before.card(vm)?.contains("HA") == true, "\(vm) is marked HA: \(before.card(vm) ?? "no card")") }
        #expect(before.card(plain).map { !$0.contains("HA") && !$0.contains("not in spec") } ?? true, "\(before.card(plain) ?? "")")

        // A host dies: its HA VMs run elsewhere, and the viewer's page says so.
        let lost = cluster.vms.filter { cluster.copies[$0] == [victim.name] }
        try cluster.testbed.kill(victim)
        let recovered = try await cluster.waitUntilEachRunsOnce(within: .seconds(40)) { $0 != victim.name }
        #expect(recovered != nil, "\(lost) run elsewhere: \(cluster.copies)\n\(cluster.logs())")
        wanted = expected()
        let after = try await Self.render(cluster, in: viewer, shot: "after-failover") { page in
            lost.allSatisfy { vm in page.events(kind: "failover").contains { $0.contains(vm) } && running(page, vm) }
                && cluster.testbed.hosts.filter { $0 != victim }.allSatisfy { page.vms(onHost: $0.name) == wanted[$0.name, default: []] }
        }
        #expect(after.card(plain).map { !$0.contains("not in spec") } ?? true, "a VM of a dead host is still the spec's: \(after.card(plain) ?? "")")
        for vm in lost {
            #expect(running(after, vm), "\(vm) shows running where it was taken over: \(after.card(vm) ?? "no card")")
            #expect(after.events(kind: "failover").contains { $0.contains(vm) && $0.contains(victim.name) },
                    "\(vm): \(after.events(kind: "failover"))")
            #expect(after.rows("failovers").contains { $0.contains(vm) && $0.contains(victim.name) }, "\(after.rows("failovers"))")
        }
        for host in cluster.testbed.hosts where host != victim {
            #expect(after.vms(onHost: host.name) == wanted[host.name, default: []], "\(host.name): \(after.vms(onHost: host.name)) vs \(wanted)")
        }
        #expect(!after.banners(kind: "unreachable").filter { $0.contains(victim.name) }.isEmpty
                    || !after.banners(kind: "dead").filter { $0.contains(victim.name) }.isEmpty,
                "the dead host is called out: \(after.banners(kind: "unreachable")) \(after.banners(kind: "dead"))")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")")
    }
}
