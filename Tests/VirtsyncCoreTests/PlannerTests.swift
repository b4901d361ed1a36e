import Testing
import VirtsyncCore

@Suite("Planner")
struct PlannerTests {
    let empty = ObservedState(hosts: ["local": ObservedHost(name: "local")])

    @Test("an empty host gets pools, volumes, networks, then domains, then starts")
    func createOrder() {
        let plan = Planner.plan(desired: labDesired(), observed: empty)
        let ids = plan.steps.map(\.id)
        #expect(ids == [
            "create:pool:local/lab",
            "create:volume:local/lab/base.qcow2",
            "create:volume:local/lab/web-1-root.qcow2",
            "create:network:local/labnet",
            "create:domain:local/web-1",
            "create:domain:local/web-2",
            "start:domain:local/web-1",
        ])
        let byID = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.id, $0) })
        #expect(byID["create:volume:local/lab/web-1-root.qcow2"]?.dependsOn == ["create:pool:local/lab", "create:volume:local/lab/base.qcow2"])
        #expect(byID["create:domain:local/web-1"]?.dependsOn == ["create:network:local/labnet", "create:pool:local/lab", "create:volume:local/lab/web-1-root.qcow2"])
        #expect(byID["start:domain:local/web-1"]?.dependsOn.contains("create:domain:local/web-1") == true)
        #expect(plan.steps.allSatisfy { $0.disruption == .none })
    }

    @Test("the plan records its basis: spec digest and a fingerprint of what was observed")
    func basis() {
        let a = Planner.plan(desired: labDesired(), observed: empty)
        var other = empty
        other.hosts["local"]?.networks["x"] = ObservedNetwork(model: NetworkModel(name: "x", mode: .isolated), uuid: "u", active: true)
        let b = Planner.plan(desired: labDesired(), observed: other)
        #expect(a.basis.specDigest == "d1gest")
        #expect(a.basis.observedFingerprint != b.basis.observedFingerprint)
        #expect(a.basis.observedFingerprint == Planner.plan(desired: labDesired(), observed: empty).basis.observedFingerprint)
    }

    @Test("an unmanaged domain, network and pool with spec names are reported and never changed")
    func unmanagedInTheWay() {
        var obs = empty
        obs.hosts["local"]?.domains["web-1"] = ObservedDomain(model: DomainModel(name: "web-1", memory: .mib(512)), uuid: "u1", state: .shutoff)
        obs.hosts["local"]?.networks["labnet"] = ObservedNetwork(model: NetworkModel(name: "labnet", mode: .isolated), uuid: "u2", active: false)
        obs.hosts["local"]?.pools["lab"] = ObservedPool(model: PoolModel(name: "lab", type: .dir, path: "/elsewhere"), uuid: "u3", active: true)
        let plan = Planner.plan(desired: labDesired(), observed: obs, options: PlanOptions(prune: true))
        #expect(!plan.steps.contains { $0.resource.name == "web-1" && $0.resource.kind == .domain })
        #expect(!plan.steps.contains { $0.resource.name == "labnet" })
        #expect(!plan.steps.contains { $0.resource.kind == .pool })
        #expect(plan.notes.filter { $0.severity == .warning }.count == 3)
    }

    @Test("unmanaged resources outside the spec are never deleted, even with pruning")
    func unmanagedNotPruned() {
        var obs = empty
        obs.hosts["local"]?.domains["theirs"] = ObservedDomain(model: DomainModel(name: "theirs", memory: .mib(512)), uuid: "u1", state: .running)
        obs.hosts["local"]?.networks["default"] = ObservedNetwork(model: NetworkModel(name: "default", mode: .nat), uuid: "u2", active: true)
        obs.hosts["local"]?.pools["images"] = ObservedPool(model: PoolModel(name: "images", type: .dir, path: "/i"), uuid: "u3", active: true)
        let plan = Planner.plan(desired: labDesired(), observed: obs, options: PlanOptions(prune: true))
        #expect(!plan.steps.contains { ["theirs", "default", "images"].contains($0.resource.name) })
    }

    @Test("a managed VM removed from the spec is deleted only with pruning, after which its network can go")
    func pruning() {
        var obs = empty
        obs.hosts["local"]?.networks["old"] = ObservedNetwork(model: NetworkModel(name: "old", mode: .isolated), uuid: "n", active: true, managed: true)
        obs.hosts["local"]?.domains["gone"] = ObservedDomain(model: DomainModel(name: "gone", memory: .mib(32), interfaces: [InterfaceModel(source: .network("old"), mac: "52:54:00:00:00:09")]),
                                                             uuid: "g", state: .running, marker: OwnershipMarker(specDigest: "x"))
        let keep = Planner.plan(desired: labDesired(), observed: obs)
        #expect(!keep.steps.contains { $0.action == .delete })
        #expect(keep.notes.contains { $0.message.contains("pruning is off") })
        let prune = Planner.plan(desired: labDesired(), observed: obs, options: PlanOptions(prune: true))
        let deletes = prune.steps.filter { $0.action == .delete }.map(\.id)
        #expect(deletes == ["delete:domain:local/gone", "delete:network:local/old"])
        #expect(prune.steps.first { $0.id == "delete:network:local/old" }?.dependsOn == ["delete:domain:local/gone"])
    }

    @Test("a plan deleting more than the allowed share of managed resources is refused without the override")
    func massDelete() throws {
        var obs = empty
        for i in 0..<4 {
            obs.hosts["local"]?.domains["vm\(i)"] = ObservedDomain(model: DomainModel(name: "vm\(i)", memory: .mib(32)), uuid: "u\(i)", state: .shutoff, marker: OwnershipMarker(specDigest: "x"))
        }
        let plan = Planner.plan(desired: labDesired(), observed: obs, options: PlanOptions(prune: true))
        #expect(plan.steps.filter { $0.action == .delete }.count == 4)
        #expect(throws: PlanRefusal.self) { try SafetyGuard.checkMassDelete(plan, observed: obs, maxFraction: 0.5, allow: false) }
        try SafetyGuard.checkMassDelete(plan, observed: obs, maxFraction: 0.5, allow: true)
        try SafetyGuard.checkMassDelete(plan, observed: obs, maxFraction: 1.0, allow: false)
    }

    @Test("an unreachable host is reported as unknown and nothing is planned for it")
    func unreachable() {
        let plan = Planner.plan(desired: labDesired(), observed: ObservedState(unreachable: ["local": "timeout"]))
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.first?.severity == .error)
        #expect(plan.notes.first?.message.contains("unknown") == true)
    }

    @Test("a grown volume is resized when no running domain uses it; a shrunk one is refused; libvirt's rounding is no change")
    func volumeSizes() {
        var obs = empty
        obs.hosts["local"]?.pools["lab"] = ObservedPool(model: PoolModel(name: "lab", type: .dir, path: "/var/lib/virtsync/pools/lab"), uuid: "p", active: true, managed: true)
        obs.hosts["local"]?.volumes["lab/base.qcow2"] = ObservedVolume(model: VolumeModel(pool: "lab", name: "base.qcow2", capacity: .mib(512), format: .qcow2), path: "/b", managed: true)
        obs.hosts["local"]?.volumes["lab/web-1-root.qcow2"] = ObservedVolume(model: VolumeModel(pool: "lab", name: "web-1-root.qcow2", capacity: .gib(4), format: .qcow2), path: "/r", managed: true)
        let plan = Planner.plan(desired: labDesired(), observed: obs)
        let grow = plan.steps.first { $0.id == "update:volume:local/lab/base.qcow2" }
        #expect(grow?.disruption == Disruption.none)
        #expect(grow?.changes.first?.before == "512MiB")
        #expect(!plan.steps.contains { $0.resource.name == "lab/web-1-root.qcow2" })
        #expect(plan.notes.contains { $0.severity == .error && $0.message.contains("shrink") })
        // qcow2 sizes come back rounded up: a few hundred bytes more is the same size.
        obs.hosts["local"]?.volumes["lab/web-1-root.qcow2"]?.model.capacity = ByteSize(bytes: ByteSize.gib(2).bytes + 512)
        let rounded = Planner.plan(desired: labDesired(), observed: obs)
        #expect(!rounded.notes.contains { $0.message.contains("shrink") })
        // Attached to one running domain in a dir pool: grown live, through the domain.
        obs.hosts["local"]?.domains["web-1"] = ObservedDomain(model: labDesired().hosts[0].domains[0], uuid: "w", state: .running,
                                                              marker: OwnershipMarker(specDigest: "x"))
        obs.hosts["local"]?.volumes["lab/web-1-root.qcow2"]?.model.capacity = .gib(1)
        let attached = Planner.plan(desired: labDesired(), observed: obs)
        let live = attached.steps.first { $0.id == "update:volume:local/lab/web-1-root.qcow2" }
        #expect(live?.disruption == .live)
        #expect(live?.reason.contains("grown live through running domain web-1") == true)
        // In a logical pool it waits until the domain is stopped.
        obs.hosts["local"]?.pools["lab"]?.model.type = .logical
        let logical = Planner.plan(desired: labDesired(), observed: obs)
        #expect(!logical.steps.contains { $0.id == "update:volume:local/lab/web-1-root.qcow2" })
        #expect(logical.notes.contains { $0.message.contains("once domain web-1 is stopped (a logical volume is not grown under a running guest)") })
    }
}
