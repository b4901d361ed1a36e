import Foundation
import Testing
import VirtsyncTestSupport

/// Live migrations of HA VMs on the testbed, with real etcd and agents: failback of pinned VMs
/// to their host once it is back and settled, and a maintenance drain. The checker counts a
/// migration's two processes as one move (the newer one started with `-incoming`), and any
/// other second copy as a double run.
@Suite("HA live migrations on the testbed", .serialized,
       .enabled(if: Testbed.available && VirtsyncBinary.isBuilt, "needs root, namespaces, libvirt, etcd and the built virtsync"))
struct HAMoveTests {
    /// The owner records, once each names the host where its VM runs (the record is handed over
    /// right after libvirt's migration returns), or as they are after 10 s.
    static func ownersWhereTheyRun(_ cluster: HACluster, via host: Testbed.Host) async throws -> [String: String] {
        var owners: [String: String] = [:]
        for _ in 0..<50 {
            owners = try cluster.owners(via: host)
            let copies = cluster.copies
            if cluster.vms.allSatisfy({ owners[$0] != nil && copies[$0] == [owners[$0]!] }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return owners
    }

    @Test("failback: pinned HA VMs fail over when their host dies, and return to it by live migration once it has been back for the settling time")
    func failbackMigratesHome() async throws {
        let cluster = try await HACluster(vms: 2, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        let home = cluster.testbed.hosts[0]
        for vm in cluster.vms { cluster.pinned[vm] = home.name }
        let settle = 6.0
        cluster.failbackSettle = settle
        cluster.incoming = .migrationAware
        try await cluster.commitSpec("pinned HA VMs")
        guard try await HAFailoverTests.started(cluster) else { return }
        #expect(cluster.vms.allSatisfy { cluster.copies[$0] == [home.name] }, "\(cluster.copies)")

        try cluster.testbed.kill(home)
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(40), allowed: { $0 != home.name }) != nil else {
            Issue.record("the pinned VMs run elsewhere while their host is dead: \(cluster.copies)\n\(cluster.logs())")
            return
        }
        let away = cluster.copies

        try cluster.testbed.reboot(home)
        _ = try cluster.testbed.restartEtcd(home)
        let back = ContinuousClock.now
        try cluster.startAgent(home)
        guard let returned = try await cluster.waitUntilEachRunsOnce(within: .seconds(90), allowed: { $0 == home.name }) else {
            Issue.record("failback: the VMs return to \(home) (from \(away)): \(cluster.copies)\n\(cluster.logs())")
            return
        }
        let waited = back.duration(to: .now)
        #expect(waited >= .seconds(settle), "failback waits for the host to settle: back after \(waited) (\(returned) of waiting)")
        let owners = try await Self.ownersWhereTheyRun(cluster, via: cluster.testbed.hosts[1])
        #expect(cluster.vms.allSatisfy { owners[$0] == home.name }, "the owner records follow: \(owners)")
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
        #expect((report?.migrations.count ?? 0) >= cluster.vms.count, "went home by live migration, not a restart: \(report?.description ?? "")")
    }

    @Test("maintenance drains a host's running HA VMs by live migration, owner records and all, and they come back when the mark is removed")
    func maintenanceDrain() async throws {
        let cluster = try await HACluster(vms: 2, watchdog: false)
        var report: DoubleRunChecker.Report?
        defer { if report == nil { cluster.tearDown() } }
        let host = cluster.testbed.hosts[0]
        for vm in cluster.vms { cluster.pinned[vm] = host.name }
        cluster.incoming = .migrationAware
        try await cluster.commitSpec("pinned HA VMs")
        guard try await HAFailoverTests.started(cluster) else { return }

        cluster.maintenance = [host.name]
        try await cluster.commitSpec("maintenance of \(host.name)")
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(60), allowed: { $0 != host.name }) != nil else {
            Issue.record("maintenance drains \(host): \(cluster.copies)\n\(cluster.logs())")
            return
        }
        let owners = try await Self.ownersWhereTheyRun(cluster, via: host)
        #expect(cluster.vms.allSatisfy { owners[$0] != nil && owners[$0] != host.name && cluster.copies[$0] == [owners[$0]!] },
                "the owner records name where they run: \(owners) \(cluster.copies)\n\(cluster.logs())")

        cluster.maintenance = []
        try await cluster.commitSpec("maintenance of \(host.name) done")
        guard try await cluster.waitUntilEachRunsOnce(within: .seconds(60), allowed: { $0 == host.name }) != nil else {
            Issue.record("the VMs come back to \(host): \(cluster.copies)\n\(cluster.logs())")
            return
        }
        report = cluster.tearDown()
        #expect(report?.doubleRuns.isEmpty == true, "\(report?.description ?? "")\n\(cluster.logs())")
        #expect((report?.migrations.count ?? 0) >= 2 * cluster.vms.count, "live migrations both ways: \(report?.description ?? "")")
    }
}
