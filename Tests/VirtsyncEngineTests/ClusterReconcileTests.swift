import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// Three in-memory hosts; `vms` tiny VMs on the `lan` network, each `(name, rule)`.
func cluster(_ vms: [(String, PlacementRule)], maintenance: Set<String> = [], networksOn: Set<String> = ["a", "b", "c"],
             memory: ByteSize = .gib(1), settings: MigrationSettings = MigrationSettings(), power: PowerState = .running) -> DesiredState {
    let lan = NetworkModel(name: "lan", mode: .isolated, ipv4: IPv4Config(address: "10.90.0.1", prefix: 24))
    let hosts = ["a", "b", "c"].map { name in
        DesiredHost(name: name, uri: "memory:///\(name)", memoryCapacity: memory, networks: networksOn.contains(name) ? [lan] : [],
                    migrationURI: "memory+peer:///\(name)", maintenance: maintenance.contains(name))
    }
    let machines = vms.map { name, rule in
        ClusterMachine(domain: DomainModel(name: name, memory: .mib(64), interfaces: [InterfaceModel(source: .network("lan"))], power: power),
                       placement: DesiredPlacement(rule: rule))
    }
    return DesiredState(hosts: hosts, settings: SpecSettings(migration: settings), specDigest: "d1", machines: machines)
}

@Suite("Several hosts: placement, migration and maintenance against in-memory hosts")
struct ClusterReconcileTests {
    func host(_ h: Harness, _ name: String) -> InMemoryHypervisor { h.connector.hypervisor("memory:///\(name)") }

    @Test("changing a VM's host is one migrate step with its checks; it ends on the new host only and the next plan is empty")
    func pinnedMove() async throws {
        let h = try Harness()
        await h.apply(cluster([("web", PlacementRule(pinned: "a"))]))
        #expect(host(h, "a").snapshot.domains["web"]?.state == .running)

        let moved = cluster([("web", PlacementRule(pinned: "b"))])
        let plan = await h.plan(moved)
        let migrate = try #require(plan.steps.first { $0.action == .migrate })
        #expect(migrate.resource.host == "a")
        guard case .migration(let m) = migrate.payload else { Issue.record("no migration payload"); return }
        #expect(m.from == "a" && m.to == "b" && m.live && m.destinationURI == "memory+peer:///b")
        #expect(Set(m.checks.map(\.name)).isSuperset(of: ["networks", "storage", "cpu", "capacity"]))
        #expect(!plan.steps.contains { $0.action == .create || $0.action == .delete }, "\(plan.steps.map(\.id))")
        #expect(TextRenderer(color: false).render(plan).contains("migrate domain web a → b"))

        let (_, report) = await h.apply(moved, prune: true)
        #expect(report.ok, "\(report.results.map(\.outcome))")
        #expect(host(h, "a").snapshot.domains["web"] == nil)
        #expect(host(h, "b").snapshot.domains["web"]?.state == .running)
        let again = await h.plan(moved, prune: true)
        #expect(again.steps.isEmpty, "\(again.steps.map(\.id))")
    }

    @Test("a VM running away from its pinned host, which has a stopped copy left, goes back by live migration replacing that copy")
    func returnsOverStoppedCopy() async throws {
        let h = try Harness()
        let spec = cluster([("web", PlacementRule(pinned: "a"))])
        await h.apply(spec)
        // As after HA restarted it on b while a was dead: a kept its stopped definition.
        let copy = try #require(host(h, "a").snapshot.domains["web"])
        host(h, "a").mutate { $0.domains["web"]?.state = .shutoff }
        host(h, "b").mutate { $0.domains["web"] = copy }
        let plan = await h.plan(spec)
        let migrate = try #require(plan.steps.first { $0.action == .migrate }, "\(plan.steps.map(\.id))")
        guard case .migration(let m) = migrate.payload else { Issue.record("no migration payload"); return }
        #expect(migrate.resource.host == "b" && m.from == "b" && m.to == "a" && m.live)
        #expect(!plan.steps.contains { $0.action == .start || $0.action == .delete || $0.action == .create }, "\(plan.steps.map(\.id))")
        let (_, report) = await h.apply(spec)
        #expect(report.ok, "\(report.results.map(\.outcome))")
        #expect(host(h, "a").snapshot.domains["web"]?.state == .running)
        #expect(host(h, "b").snapshot.domains["web"] == nil)
        #expect(await h.plan(spec).steps.isEmpty)
    }

    @Test("a stopped copy on its pinned host is not moved over by another stopped copy elsewhere")
    func twoStoppedCopiesStay() async throws {
        let h = try Harness()
        let spec = cluster([("idle", PlacementRule(pinned: "a"))], power: .stopped)
        await h.apply(spec)
        let copy = try #require(host(h, "a").snapshot.domains["idle"])
        host(h, "b").mutate { $0.domains["idle"] = copy }
        #expect(!(await h.plan(spec)).steps.contains { $0.action == .migrate })
    }

    @Test("a stopped VM moves too (by redefinition) and stays stopped")
    func stoppedMove() async throws {
        let h = try Harness()
        await h.apply(cluster([("idle", PlacementRule(pinned: "a"))], power: .stopped))
        let plan = await h.plan(cluster([("idle", PlacementRule(pinned: "c"))], power: .stopped))
        guard case .migration(let m)? = plan.steps.first(where: { $0.action == .migrate })?.payload else { Issue.record("no migration"); return }
        #expect(!m.live)
        await h.apply(cluster([("idle", PlacementRule(pinned: "c"))], power: .stopped))
        #expect(host(h, "c").snapshot.domains["idle"]?.state == .shutoff)
        #expect(host(h, "a").snapshot.domains["idle"] == nil)
    }

    @Test("a host in maintenance is drained in waves within the limits, and its VMs come back when unmarked")
    func maintenance() async throws {
        let h = try Harness()
        let names = (1...6).map { "vm-\($0)" }
        let allowed = PlacementRule(allowedHosts: ["a", "b", "c"])
        let settings = MigrationSettings(maxPerHost: 2, maxPerCluster: 3)
        // All six start on a: only a is allowed at first.
        await h.apply(cluster(names.map { ($0, PlacementRule(allowedHosts: ["a"])) }, settings: settings))
        #expect(host(h, "a").snapshot.domains.count == 6)
        // Widen the rule: nothing moves (stickiness).
        #expect(await h.plan(cluster(names.map { ($0, allowed) }, settings: settings)).steps.isEmpty)

        let drain = cluster(names.map { ($0, allowed) }, maintenance: ["a"], settings: settings)
        let plan = await h.plan(drain)
        let migrations = plan.steps.filter { $0.action == .migrate }
        #expect(migrations.count == 6)
        for wave in Set(migrations.compactMap(\.wave)) {
            let inWave = migrations.filter { $0.wave == wave }
            #expect(inWave.count <= 2, "host a takes part in at most maxPerHost migrations per wave")
        }
        let (_, report) = await h.apply(drain)
        #expect(report.ok)
        #expect(host(h, "a").snapshot.domains.isEmpty)
        let away = host(h, "b").snapshot.domains.values.map(\.self) + host(h, "c").snapshot.domains.values.map(\.self)
        #expect(away.count == 6 && away.allSatisfy { $0.marker?.evacuatedFrom == "a" && $0.state == .running })
        #expect(await h.plan(drain).steps.isEmpty, "drained: nothing more to do")

        let back = cluster(names.map { ($0, allowed) }, settings: settings)
        let returning = await h.plan(back)
        #expect(returning.steps.filter { $0.action == .migrate }.count == 6)
        await h.apply(back)
        #expect(host(h, "a").snapshot.domains.count == 6)
        #expect(host(h, "a").snapshot.domains.values.allSatisfy { $0.marker?.evacuatedFrom == nil })
        #expect(await h.plan(back).steps.isEmpty)
    }

    @Test("a VM whose policy is shutdown is stopped in place for maintenance and started after")
    func shutdownPolicy() async throws {
        let h = try Harness()
        var spec = cluster([("db", PlacementRule(pinned: "b"))])
        await h.apply(spec)
        spec.hosts[1].maintenance = true
        spec.machines[0].placement.onMaintenance = .shutdown
        let plan = await h.plan(spec)
        #expect(plan.steps.map(\.action) == [.stop])
        await h.apply(spec)
        spec.hosts[1].maintenance = false
        #expect(await h.plan(spec).steps.map(\.action) == [.start])
    }

    @Test("a destination without the VM's network refuses the migration in pre-flight; the VM is untouched")
    func preflightRefusal() async throws {
        let h = try Harness()
        await h.apply(cluster([("web", PlacementRule(pinned: "a"))], networksOn: ["a", "b"]))
        // Without `lan` on c at all (a hand-built state; validation refuses such a spec).
        let missing = await h.plan(cluster([("web", PlacementRule(pinned: "c"))], networksOn: ["a", "b"]), prune: true)
        #expect(missing.steps.isEmpty)
        #expect(missing.notes.contains { $0.message.contains("networks: lan is missing on c") })
        // Someone defined an inactive `lan` on c by hand: virtsync does not own it, cannot start it.
        host(h, "c").mutate { $0.networks["lan"] = ObservedNetwork(model: NetworkModel(name: "lan", mode: .isolated), uuid: "u-lan", active: false) }
        let moved = cluster([("web", PlacementRule(pinned: "c"))])
        let plan = await h.plan(moved, prune: true)
        #expect(!plan.steps.contains { $0.resource.kind == .domain }, "\(plan.steps.map(\.id))")
        let refusal = try #require(plan.notes.first { $0.message.contains("refused in pre-flight") })
        #expect(refusal.severity == .error && refusal.message.contains("lan on c is inactive and not managed"))
        await h.apply(moved, prune: true)
        #expect(host(h, "a").snapshot.domains["web"]?.state == .running)
    }

    @Test("an unreachable host makes its VMs unknown: nothing is created elsewhere, nothing removed")
    func unreachable() async throws {
        let h = try Harness()
        let spec = cluster([("web", PlacementRule(allowedHosts: ["a", "b"])), ("db", PlacementRule(pinned: "c"))])
        await h.apply(spec)
        let webHost = ["a", "b"].first { host(h, $0).snapshot.domains["web"] != nil }
        let dead = try #require(webHost)
        h.connector.unreachable.insert("memory:///\(dead)")
        let plan = await h.plan(spec, prune: true)
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
        #expect(plan.notes.contains { $0.message.contains("host \(dead) is unreachable") })
        #expect(plan.notes.contains { $0.message.contains("domain web is left alone") })
    }

    @Test("a failed migration leaves the VM where it was, and the next pass moves it")
    func failedMigration() async throws {
        let h = try Harness()
        await h.apply(cluster([("web", PlacementRule(pinned: "a"))]))
        host(h, "a").failNext(ResourceRef(kind: .domain, host: "a", name: "web"))
        let moved = cluster([("web", PlacementRule(pinned: "b"))])
        let (_, report) = await h.apply(moved, prune: true)
        #expect(report.failed == 1)
        #expect(host(h, "a").snapshot.domains["web"]?.state == .running)
        #expect(host(h, "b").snapshot.domains["web"] == nil)
        let (_, retry) = await h.apply(moved, prune: true)
        #expect(retry.ok)
        #expect(host(h, "b").snapshot.domains["web"]?.state == .running)
    }

    @Test("unmanaged domains on any host are never moved or removed")
    func unmanagedUntouched() async throws {
        let h = try Harness()
        host(h, "b").mutate { $0.domains["handmade"] = ObservedDomain(model: DomainModel(name: "handmade", memory: .mib(32)), uuid: "u-h", state: .running) }
        let spec = cluster([("web", PlacementRule(pinned: "a"))], maintenance: ["b"])
        let plan = await h.plan(spec, prune: true)
        #expect(!plan.steps.contains { $0.resource.name == "handmade" })
    }
}
