import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTestSupport

/// Live migration, maintenance and the cluster view against a testbed of three libvirt hosts
/// with real (tiny) guests.
@Suite("Several hosts on a testbed: live migration, maintenance, dead hosts", .serialized,
       .enabled(if: Testbed.available, "needs root and network namespaces (scripts/testbed.sh)"))
struct MigrationTests {
    /// Runs `body` against a fresh three-host testbed, always torn down.
    func withCluster(_ tag: String, _ body: (ClusterFixture) async throws -> Void) async throws {
        let testbed = try Testbed.up(hosts: 3, name: "vsm\(tag)")
        defer { try? testbed.down() }
        try await body(try ClusterFixture(testbed: testbed))
    }

    @Test("changing a running VM's host live-migrates it: it keeps running, ends on the new host only, with its downtime measured")
    func liveMigration() async throws {
        try await withCluster("a") { c in
            let first = try c.desired(c.spec([ClusterFixture.vm("web", host: "host-1")]))
            let (_, created) = try await c.apply(first)
            #expect(created.ok, "\(created.results.map(\.outcome))")
            #expect(c.state("web", on: "host-1")?.hasPrefix("running") == true)
            let uuid = try c.testbed.virsh(c.testbed.host("host-1"), ["domuuid", "web"]).trimmingCharacters(in: .whitespacesAndNewlines)

            let moved = try c.desired(c.spec([ClusterFixture.vm("web", host: "host-2")]))
            let (plan, report) = try await c.apply(moved)
            #expect(plan.steps.map(\.action) == [.migrate], "\(plan.steps.map(\.id))")
            #expect(report.ok, "\(report.results.map(\.outcome))")
            // Resumed from an incoming migration, never booted: it did not stop.
            #expect(c.state("web", on: "host-2") == "running (migrated)")
            #expect(!c.domains(on: "host-1").contains("web"))
            #expect(try c.testbed.virsh(c.testbed.host("host-2"), ["domuuid", "web"]).trimmingCharacters(in: .whitespacesAndNewlines) == uuid)
            let downtime = try #require(report.results.first?.migration?.downtimeMilliseconds, "libvirt reports the downtime")
            print("live migration host-1 → host-2: \(report.results[0].seconds) s, downtime \(downtime) ms")
            #expect(await c.plan(moved).0.steps.isEmpty, "idempotent: the next plan is empty")
        }
    }

    @Test("a host in maintenance is drained within the limits, and its VMs come back when unmarked")
    func maintenanceDrainAndReturn() async throws {
        try await withCluster("b") { c in
            let names = (1...4).map { "vm-\($0)" }
            let limits = "maxPerHost: 2\nmaxPerCluster: 2"
            let onlyOne = names.map { ClusterFixture.vm($0, placement: "hosts: [host-1]") }
            let (_, created) = try await c.apply(try c.desired(c.spec(migration: limits, onlyOne)))
            #expect(created.ok)
            #expect(c.domains(on: "host-1") == Set(names))
            let anywhere = names.map { ClusterFixture.vm($0, placement: "hosts: [host-1, host-2, host-3]") }
            #expect(await c.plan(try c.desired(c.spec(migration: limits, anywhere))).0.steps.isEmpty, "stickiness: nothing moves")

            let drain = try c.desired(c.spec(maintenance: ["host-1"], migration: limits, anywhere))
            let (plan, report) = try await c.apply(drain)
            let migrations = report.results.filter { $0.step.action == .migrate }
            #expect(migrations.count == 4 && report.ok, "\(report.results.map(\.outcome))")
            for wave in Set(plan.steps.compactMap(\.wave)) {
                #expect(plan.steps.filter { $0.wave == wave }.count <= 2)
            }
            #expect(c.domains(on: "host-1").isEmpty)
            for name in names {
                let host = try #require(["host-2", "host-3"].first { c.domains(on: $0).contains(name) })
                #expect(c.state(name, on: host) == "running (migrated)")
            }
            print("drain of 4 VMs: " + migrations.map { "\($0.step.resource.name) \(String(format: "%.2f", $0.seconds)) s, downtime \($0.migration?.downtimeMilliseconds ?? -1) ms" }.joined(separator: "; "))

            let back = try c.desired(c.spec(migration: limits, anywhere))
            let (_, returned) = try await c.apply(back)
            #expect(returned.ok && returned.results.filter { $0.step.action == .migrate }.count == 4)
            #expect(c.domains(on: "host-1") == Set(names))
            #expect(await c.plan(back).0.steps.isEmpty)
        }
    }

    @Test("a dead or frozen host during plan is reported unknown within seconds; the others are planned")
    func deadHost() async throws {
        try await withCluster("c") { c in
            let spec = try c.desired(c.spec([ClusterFixture.vm("a", host: "host-1"), ClusterFixture.vm("b", host: "host-2"),
                                             ClusterFixture.vm("c", host: "host-3")]))
            try await c.apply(spec)
            try c.testbed.kill(c.testbed.host("host-3"))
            var start = ContinuousClock.now
            var (plan, _) = await c.plan(spec)
            let killed = ContinuousClock.now - start
            #expect(plan.notes.contains { $0.severity == .error && $0.message.contains("host host-3 is unreachable") })
            #expect(plan.steps.isEmpty, "nothing that depends on host-3 is done: \(plan.steps.map(\.id))")

            try c.testbed.freeze(c.testbed.host("host-2"))
            defer { try? c.testbed.thaw(c.testbed.host("host-2")) }
            start = ContinuousClock.now
            (plan, _) = await c.plan(spec)
            let frozen = ContinuousClock.now - start
            #expect(plan.notes.contains { $0.message.contains("host host-2 is unreachable") })
            print("plan with a killed host: \(killed); with a frozen one too: \(frozen)")
            // Bounded by the connect deadline (5 s here), not by TCP's minutes.
            #expect(frozen < .seconds(30))
        }
    }

    @Test("a migration to a host without the VM's network is refused in pre-flight; the VM keeps running where it is")
    func preflightRefusal() async throws {
        try await withCluster("d") { c in
            let first = try c.desired(c.spec(networkHosts: ["host-1"], [ClusterFixture.vm("web", host: "host-1")]))
            try await c.apply(first)
            // host-2 has an inactive `lan` defined by hand: not virtsync's, so it is never started.
            let xml = "<network><name>lan</name><bridge name='vbr-hand'/></network>"
            let file = c.stateDirectory + "/lan.xml"
            try xml.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try c.testbed.virsh(c.testbed.host("host-2"), ["net-define", file])
            let moved = try c.desired(c.spec([ClusterFixture.vm("web", host: "host-2")]))
            let (plan, report) = try await c.apply(moved)
            #expect(!plan.steps.contains { $0.resource.kind == .domain }, "\(plan.steps.map(\.id))")
            #expect(plan.notes.contains { $0.severity == .error && $0.message.contains("refused in pre-flight") && $0.message.contains("lan on host-2") })
            #expect(report.ok)
            #expect(c.state("web", on: "host-1") == "running (booted)")
            #expect(!c.domains(on: "host-2").contains("web"))
        }
    }
}
