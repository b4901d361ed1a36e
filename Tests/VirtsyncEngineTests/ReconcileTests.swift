import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// A small lab (mirrors the core tests' fixture).
func lab(memory: ByteSize = .mib(64), vcpus: Int = 1, restartForUpdates: Bool = false, linkUp: Bool = true) -> DesiredState {
    let pool = PoolModel(name: "lab", type: .dir, path: "/var/lib/virtsync/pools/lab")
    let base = VolumeModel(pool: "lab", name: "base.qcow2", capacity: .gib(1), format: .qcow2)
    let root = VolumeModel(pool: "lab", name: "web-1-root.qcow2", capacity: .gib(2), format: .qcow2, source: .backing(pool: "lab", volume: "base.qcow2"))
    let net = NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(address: "10.213.0.1", prefix: 24))
    let web1 = DomainModel(name: "web-1", vcpus: vcpus, maxVcpus: 4, memory: memory, maxMemory: .mib(128),
                           disks: [DiskModel(target: "vda", source: .volume(pool: "lab", volume: "web-1-root.qcow2"))],
                           interfaces: [InterfaceModel(source: .network("labnet"), linkUp: linkUp)], power: .running, restartForUpdates: restartForUpdates)
    let web2 = DomainModel(name: "web-2", memory: .mib(32), power: .stopped)
    return DesiredState(hosts: [DesiredHost(name: "local", networks: [net], pools: [pool], volumes: [base, root], domains: [web1, web2])],
                        specDigest: "digest-1")
}

struct Harness {
    let connector: InMemoryConnector
    let stateDir: String
    let workflow: ApplyWorkflow
    /// The reading half: what `plan` holds.
    var reconciler: Reconciler { workflow.reader }

    init(stateDir: String? = nil, connector: InMemoryConnector = InMemoryConnector()) throws {
        self.connector = connector
        self.stateDir = stateDir ?? NSTemporaryDirectory() + "virtsync-test-\(UUID().uuidString)"
        workflow = ApplyWorkflow(connector: connector, inventory: try InventoryStore(stateDirectory: self.stateDir), defaultURI: "memory:///local")
    }

    var hypervisor: InMemoryHypervisor { connector.hypervisor("memory:///local") }

    func plan(_ desired: DesiredState, prune: Bool = false) async -> Plan {
        let (sessions, failed) = await reconciler.connect(desired)
        return await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions(prune: prune)).0
    }

    @discardableResult
    func apply(_ desired: DesiredState, prune: Bool = false) async -> (Plan, ApplyReport) {
        do {
            let outcome = try await workflow.apply(desired, options: PlanOptions(prune: prune))
            return (outcome.plan, outcome.report ?? ApplyReport(results: []))
        } catch {
            Issue.record("the apply workflow threw: \(error)")
            return (Plan(basis: PlanBasis(specDigest: "", observedFingerprint: ""), steps: []), ApplyReport(results: []))
        }
    }

    /// An apply that reads the hosts under their locks and is then declined: nothing runs.
    func declinedApply(_ desired: DesiredState) async throws -> ApplyWorkflow.Outcome {
        var hooks = ApplyWorkflow.Hooks()
        hooks.approve = { _, _ in false }
        return try await workflow.run(ApplyWorkflow.Request(desired: desired, options: PlanOptions(), holder: "test"), hooks: hooks)
    }
}

@Suite("Reconcile against an honest in-memory hypervisor")
struct ReconcileTests {
    @Test("apply converges and a second plan is empty")
    func idempotent() async throws {
        let h = try Harness()
        let (plan, report) = await h.apply(lab())
        #expect(plan.steps.count == 7)
        #expect(report.ok)
        #expect(h.hypervisor.snapshot.domains["web-1"]?.state == .running)
        #expect(h.hypervisor.snapshot.domains["web-2"]?.state == .shutoff)
        let again = await h.plan(lab())
        #expect(again.steps.isEmpty, "second plan: \(again.steps.map(\.id))")
    }

    @Test("a memory change on a running VM is applied live and the next plan is empty")
    func memoryLive() async throws {
        let h = try Harness()
        await h.apply(lab())
        let plan = await h.plan(lab(memory: .mib(96)))
        #expect(plan.steps.map(\.id) == ["update:domain:local/web-1"])
        #expect(plan.steps.first?.disruption == .live)
        guard case .domain(_, let live, _)? = plan.steps.first?.payload else { Issue.record("no payload"); return }
        #expect(live == [.setMemory(.mib(96))])
        let (_, report) = await h.apply(lab(memory: .mib(96)))
        #expect(report.ok)
        #expect(h.hypervisor.snapshot.domains["web-1"]?.live?.memory == .mib(96))
        #expect(h.hypervisor.snapshot.domains["web-1"]?.state == .running)
        #expect(await h.plan(lab(memory: .mib(96))).steps.isEmpty)
    }

    @Test("memory above the maximum waits for the next boot, or restarts when the VM allows it")
    func memoryNextBoot() async throws {
        let h = try Harness()
        await h.apply(lab())
        let pending = await h.plan(lab(memory: .mib(256)))
        #expect(pending.steps.map(\.id) == ["update:domain:local/web-1"])
        #expect(pending.steps.first?.disruption == .nextBoot)
        #expect(pending.notes.contains { $0.message.contains("next boot") })
        let allowed = await h.plan(lab(memory: .mib(256), restartForUpdates: true))
        #expect(allowed.steps.map(\.id) == ["update:domain:local/web-1", "restart:domain:local/web-1"])
        #expect(allowed.steps.last?.disruption == .restart)
    }

    @Test("a link state change is live")
    func linkLive() async throws {
        let h = try Harness()
        await h.apply(lab())
        let plan = await h.plan(lab(linkUp: false))
        #expect(plan.steps.first?.changes.map(\.field) == ["interfaces[0].link"])
        #expect(plan.steps.first?.disruption == .live)
        await h.apply(lab(linkUp: false))
        #expect(await h.plan(lab(linkUp: false)).steps.isEmpty)
    }

    @Test("a VM stopped behind virtsync's back is started again")
    func drift() async throws {
        let h = try Harness()
        await h.apply(lab())
        h.hypervisor.mutate { $0.domains["web-1"]?.state = .shutoff; $0.domains["web-1"]?.live = nil }
        let plan = await h.plan(lab())
        #expect(plan.steps.map(\.id) == ["start:domain:local/web-1"])
    }

    @Test("a failed step skips its dependents and nothing else; the next pass converges")
    func failureSkipsDependents() async throws {
        let h = try Harness()
        h.hypervisor.failNext(ResourceRef(kind: .volume, host: "local", name: "lab/base.qcow2"))
        let (_, report) = await h.apply(lab())
        let outcome = Dictionary(uniqueKeysWithValues: report.results.map { ($0.step.id, $0.outcome) })
        #expect(report.failed == 1)
        if case .failed = outcome["create:volume:local/lab/base.qcow2"] {} else { Issue.record("base should fail") }
        if case .skipped = outcome["create:volume:local/lab/web-1-root.qcow2"] {} else { Issue.record("overlay should be skipped") }
        if case .skipped = outcome["start:domain:local/web-1"] {} else { Issue.record("start should be skipped") }
        #expect(outcome["create:domain:local/web-2"] == .succeeded)
        #expect(outcome["create:network:local/labnet"] == .succeeded)
        let (_, second) = await h.apply(lab())
        #expect(second.ok)
        #expect(await h.plan(lab()).steps.isEmpty)
    }

    @Test("a resource created just before a crash is adopted from the pending inventory entry, not duplicated")
    func crashAdoption() async throws {
        let h = try Harness()
        // The create call went through but the process died before recording success.
        try await h.reconciler.inventory.recordPending(host: "memory:///local", kind: .network, name: "labnet", owner: nil)
        h.hypervisor.mutate {
            $0.networks["labnet"] = ObservedNetwork(model: NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(address: "10.213.0.1", prefix: 24)), uuid: "n1", active: true)
        }
        let plan = await h.plan(lab())
        #expect(!plan.steps.contains { $0.resource.kind == .network })
        #expect(!plan.notes.contains { $0.message.contains("not managed") })
    }

    @Test("the inventory survives a reload and a damaged one is refused, not emptied")
    func inventoryFile() async throws {
        let h = try Harness()
        await h.apply(lab())
        // The next apply's read confirms each entry and records its libvirt UUID.
        let again = await h.apply(lab())
        #expect(again.0.steps.isEmpty)
        let reloaded = try InventoryStore(stateDirectory: h.stateDir)
        let entries = try await reloaded.entries(host: "memory:///local")
        #expect(entries.networks["labnet"]?.state == .present)
        #expect(entries.networks["labnet"]?.uuid != nil)
        #expect(entries.volumes.count == 2)
        // A damaged host file: the host is not read (never "nothing is managed"), nothing is planned for it.
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: await reloaded.path(host: "memory:///local")))
        await #expect(throws: EngineError.self) { try await reloaded.entries(host: "memory:///local") }
        let plan = await h.plan(lab())
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.contains { $0.severity == .error && $0.message.contains("damaged") })
        // A damaged inventory of an earlier version is refused at once.
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: h.stateDir + "/inventory.json"))
        #expect(throws: EngineError.self) { try InventoryStore(stateDirectory: h.stateDir) }
    }

    @Test("pruning removes managed resources and keeps volumes unless asked")
    func pruneKeepsVolumes() async throws {
        let h = try Harness()
        await h.apply(lab())
        var smaller = lab()
        smaller.hosts[0].domains.removeAll { $0.name == "web-2" }
        let plan = await h.plan(smaller, prune: true)
        #expect(plan.steps.map(\.id) == ["delete:domain:local/web-2"])
        var noVM = lab()
        noVM.hosts[0].domains.removeAll { $0.name == "web-1" }
        noVM.hosts[0].volumes.removeAll { $0.name == "web-1-root.qcow2" }
        let p2 = await h.plan(noVM, prune: true)
        #expect(p2.steps.map(\.id) == ["delete:domain:local/web-1"])
        #expect(p2.notes.contains { $0.message.contains("web-1-root.qcow2") && $0.message.contains("kept") })
    }
}

@Suite("Volumes still in use are never deleted")
struct VolumeInUseTests {
    func seedState(seed: String) -> DesiredState {
        let pool = PoolModel(name: "lab", type: .dir, path: "/p")
        let seedVolume = VolumeModel(pool: "lab", name: seed, capacity: .kib(56), format: .iso, source: .generated(digest: seed), content: [1, 2, 3])
        let vm = DomainModel(name: "ci", memory: .mib(32), disks: [DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "lab", volume: seed), readonly: true)],
                             power: .stopped)
        return DesiredState(hosts: [DesiredHost(name: "local", pools: [pool], volumes: [seedVolume], domains: [vm])],
                            settings: SpecSettings(prune: false), specDigest: seed)
    }

    @Test("a replaced cloud-init seed is deleted after the VM is redefined with the new one")
    func seedReplaced() async throws {
        let h = try Harness()
        await h.apply(seedState(seed: "ci-cidata-aaaa.iso"))
        let plan = await h.plan(seedState(seed: "ci-cidata-bbbb.iso"))
        let ids = plan.steps.map(\.id)
        #expect(ids.contains("delete:volume:local/lab/ci-cidata-aaaa.iso"))
        let delete = plan.steps.first { $0.id == "delete:volume:local/lab/ci-cidata-aaaa.iso" }
        #expect(delete?.dependsOn.contains("update:domain:local/ci") == true)
        let (_, report) = await h.apply(seedState(seed: "ci-cidata-bbbb.iso"))
        #expect(report.ok)
        #expect(await h.plan(seedState(seed: "ci-cidata-bbbb.iso")).steps.isEmpty)
    }

    @Test("a VM left out of the spec without pruning keeps its seed; a volume used by an unmanaged domain is kept even with pruning")
    func seedKept() async throws {
        let h = try Harness()
        await h.apply(seedState(seed: "ci-cidata-aaaa.iso"))
        var without = seedState(seed: "x")
        without.hosts[0].domains = []
        without.hosts[0].volumes = []
        let keep = await h.plan(without)
        #expect(!keep.steps.contains { $0.action == .delete })
        #expect(keep.notes.contains { $0.message.contains("still uses it") })
        // Someone else's domain attaches the volume: pruning with volume deletion must not take it.
        h.hypervisor.mutate {
            $0.domains["theirs"] = ObservedDomain(model: DomainModel(name: "theirs", memory: .mib(32),
                disks: [DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "lab", volume: "ci-cidata-aaaa.iso"), readonly: true)]),
                uuid: "t", state: .shutoff)
        }
        without.settings = SpecSettings(prune: true, maxDeleteFraction: 1, deleteVolumesWithVM: true)
        let pruned = await h.plan(without, prune: true)
        #expect(pruned.steps.map(\.id) == ["delete:domain:local/ci"])
        #expect(pruned.notes.contains { $0.message.contains("theirs still uses it") })
    }
}

@Suite("Pending restarts")
struct PendingRestartTests {
    @Test("a next-boot change stays reported on later passes until the VM restarts, and is restarted when allowed")
    func pendingIsLevelTriggered() async throws {
        let h = try Harness()
        await h.apply(lab())
        // maxMemory goes up: written to the definition only.
        var bigger = lab()
        bigger.hosts[0].domains[0].maxMemory = .mib(256)
        await h.apply(bigger)
        let later = await h.plan(bigger)
        #expect(later.steps.isEmpty)
        #expect(later.notes.contains { $0.message.contains("restart pending") })
        bigger.hosts[0].domains[0].restartForUpdates = true
        let allowed = await h.plan(bigger)
        #expect(allowed.steps.map(\.id) == ["restart:domain:local/web-1"])
        await h.apply(bigger)
        let done = await h.plan(bigger)
        #expect(done.steps.isEmpty && !done.notes.contains { $0.message.contains("restart pending") })
    }
}

@Suite("Interrupted creates")
struct InterruptedCreateTests {
    @Test("a seed volume whose create was never confirmed is made again before the VM uses it")
    func unconfirmedSeedIsRemade() async throws {
        let h = try Harness()
        let seed = VolumeModel(pool: "lab", name: "web-1-cidata-aaaa.iso", capacity: .kib(56), format: .iso, source: .generated(digest: "aaaa"), content: [1])
        var desired = lab()
        desired.hosts[0].volumes.append(seed)
        desired.hosts[0].domains[0].disks.append(DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "lab", volume: seed.name), readonly: true))
        await h.apply(desired)
        // The create call went through, the upload did not: the inventory still says pending.
        try await h.reconciler.inventory.recordPending(host: "memory:///local", kind: .volume, name: seed.key, owner: nil, generatedDigest: "aaaa")
        let plan = await h.plan(desired)
        #expect(plan.steps.map(\.id) == ["create:volume:local/lab/web-1-cidata-aaaa.iso", "delete:volume:local/lab/web-1-cidata-aaaa.iso"].reversed())
        let (_, report) = await h.apply(desired)
        #expect(report.ok)
        #expect(await h.plan(desired).steps.isEmpty)
    }

    @Test("an inventory entry whose resource is gone is forgotten at apply, so a namesake is not adopted")
    func absentEntriesForgotten() async throws {
        let h = try Harness()
        await h.apply(lab())
        h.hypervisor.mutate { $0.networks["labnet"] = nil }   // deleted by hand
        // Even an apply declined at the prompt has read the host under its lock: the entry goes.
        let declined = try await h.declinedApply(lab())
        #expect(declined.cancelled && declined.report == nil)
        // Someone else creates a network of that name: it is not virtsync's.
        h.hypervisor.mutate { $0.networks["labnet"] = ObservedNetwork(model: NetworkModel(name: "labnet", mode: .isolated), uuid: "x", active: true) }
        let plan = await h.plan(lab())
        #expect(!plan.steps.contains { $0.resource.kind == .network })
        #expect(plan.notes.contains { $0.message.contains("network labnet exists and is not managed") })
    }
}

@Suite("Reading hosts while the spec loads")
struct PrefetchTests {
    @Test("a host read before the spec was loaded is used for a spec without Host documents, and gives the same plan")
    func prefetchUsed() async throws {
        let h = try Harness()
        await h.apply(lab())
        let prefetch = h.reconciler.prefetch(uri: "memory:///local")
        let (sessions, failed, observed) = await h.reconciler.read(lab(), prefetch: prefetch)
        #expect(failed.isEmpty && sessions["local"] != nil)
        #expect(observed.hosts["local"]?.networks["labnet"]?.managed == true)
        let direct = await h.plan(lab())
        let viaPrefetch = await h.reconciler.plan(lab(), observed: observed, options: PlanOptions())
        #expect(viaPrefetch == direct)
    }

    @Test("a prefetch of another URI is not used: the spec's own hosts are read")
    func prefetchIgnored() async throws {
        let h = try Harness()
        var desired = lab()
        desired.hosts[0].uri = "memory:///elsewhere"
        let prefetch = h.reconciler.prefetch(uri: "memory:///local")
        let (sessions, _, _) = await h.reconciler.read(desired, prefetch: prefetch)
        #expect(sessions["local"]?.uri == "memory:///elsewhere")
    }
}
