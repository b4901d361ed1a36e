import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// An rbd or iscsi pool's authentication against the in-memory hypervisor, which (like libvirt)
/// refuses to start a pool whose secret object is missing: the object comes first, a second
/// pass plans nothing, a new key is a next-start update, and the object goes after the pool.
@Suite("pool authentication in plans and applies")
struct PoolAuthReconcileTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)

    static func consumer(_ type: PoolType) -> String { SecretObjectModel.consumer(pool: "ceph", type: type == .rbd ? "ceph" : "iscsi") }

    /// `lab()` plus pool `ceph` of `type` authenticating with `value` (nil: no pool at all).
    static func withPool(_ value: String?, type: PoolType = .rbd, volume: Bool = true) -> DesiredState {
        var desired = lab()
        guard let value else { return desired }
        let usage = type == .rbd ? "ceph" : "iscsi"
        let consumer = Self.consumer(type)
        let uuid = SecretObjectModel.uuid(consumer: consumer)
        let auth = DiskAuth(username: "libvirt", secretType: usage, secretUUID: uuid)
        let pool = type == .rbd
            ? PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "vms", sourceHosts: ["mon-1.example:6789", "mon-2.example"], auth: auth)
            : PoolModel(name: "ceph", type: .iscsi, path: PoolType.iscsiPath, devices: ["iqn.2013-06.com.example:san"],
                        sourceHost: "san.example", auth: auth)
        desired.hosts[0].pools.append(pool)
        desired.hosts[0].pools.sort { $0.name < $1.name }
        if type == .rbd && volume {
            desired.hosts[0].volumes.append(VolumeModel(pool: "ceph", name: "data", capacity: .gib(1), format: .raw))
            desired.hosts[0].volumes.sort { ($0.pool, $0.name) < ($1.pool, $1.name) }
        }
        let material = SecretMaterial(name: "ceph-key", digest: SecretDigest.keyed(Array(value.utf8), key: key), value: SecretBytes(Array(value.utf8)))
        desired.hosts[0].secretObjects = [SecretObjectModel(uuid: uuid, consumer: consumer, usage: .named(type: usage, id: "virtsync/pool:ceph"),
                                                            secret: material)]
        return desired
    }

    @Test("the secret object is created before the pool that names it, and a second plan is empty", arguments: [PoolType.rbd, .iscsi])
    func createOrder(_ type: PoolType) async throws {
        let harness = try Harness()
        let desired = Self.withPool("key-1", type: type)
        let (plan, report) = await harness.apply(desired)
        #expect(report.ok, "\(report.results.filter { $0.outcome != .succeeded })")
        let ids = plan.steps.map(\.id)
        let secret = try #require(ids.firstIndex(of: "create:secret:local/\(Self.consumer(type))"), "\(ids)")
        let pool = try #require(ids.firstIndex(of: "create:pool:local/ceph"), "\(ids)")
        #expect(secret < pool)
        #expect(plan.steps[pool].dependsOn.contains(ids[secret]))
        #expect(plan.steps[secret].reason == "holds the key pool ceph authenticates with")
        if type == .rbd {
            let volume = try #require(ids.firstIndex(of: "create:volume:local/ceph/data"))
            #expect(pool < volume)
        }
        #expect(harness.hypervisor.snapshot.pools["ceph"]?.active == true)
        let again = await harness.plan(desired)
        #expect(again.isEmpty, "\(again.steps.map(\.id))")
    }

    @Test("a new key is a next-start update of the object alone; the pool is not touched")
    func rotation() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPool("key-1"))
        let plan = await harness.plan(Self.withPool("key-2"))
        #expect(plan.steps.map(\.id) == ["update:secret:local/\(Self.consumer(.rbd))"])
        #expect(plan.steps.first?.disruption == .nextBoot)
        #expect(plan.steps.first?.reason == "the secret changed; libvirt uses the new value when the pool next starts")
        await harness.apply(Self.withPool("key-2"))
        #expect(await harness.plan(Self.withPool("key-2")).isEmpty)
    }

    @Test("a pool removed from the spec goes first, its object after it; without pruning both stay")
    func deletionOrder() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPool("key-1", volume: false))
        let kept = await harness.plan(Self.withPool(nil))
        #expect(kept.steps.isEmpty, "\(kept.steps.map(\.id))")
        #expect(kept.notes.contains { $0.message == "the secret object \(Self.consumer(.rbd)) is kept while pool ceph may still name it" })

        let pruned = await harness.plan(Self.withPool(nil), prune: true)
        let ids = pruned.steps.map(\.id)
        let pool = try #require(ids.firstIndex(of: "delete:pool:local/ceph"), "\(ids)")
        let secret = try #require(ids.firstIndex(of: "delete:secret:local/\(Self.consumer(.rbd))"), "\(ids)")
        #expect(pool < secret)
        #expect(pruned.steps[secret].dependsOn.contains(ids[pool]))
        let (_, report) = await harness.apply(Self.withPool(nil), prune: true)
        #expect(report.ok)
        #expect(harness.hypervisor.snapshot.secretObjects.isEmpty && harness.hypervisor.snapshot.pools["ceph"] == nil)
        #expect(await harness.plan(Self.withPool(nil), prune: true).isEmpty)
    }

    @Test("a source change redefines the pool (replace) and keeps its object")
    func sourceChange() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPool("key-1"))
        var moved = Self.withPool("key-1")
        moved.hosts[0].pools[0].sourceName = "vms-2"
        let plan = await harness.plan(moved)
        #expect(plan.steps.map(\.id) == ["replace:pool:local/ceph"])
        #expect(plan.steps.first?.disruption == .replace)
        #expect(plan.steps.first?.changes.map(\.field) == ["source.name"])
    }

    @Test("a monitor written without a port matches libvirt's with one; an initiator the spec leaves out is not compared")
    func noFalseDrift() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPool("key-1"))
        harness.hypervisor.mutate { host in host.pools["ceph"]?.model.sourceHosts = ["mon-1.example:6789", "mon-2.example:6789"] }
        #expect(await harness.plan(Self.withPool("key-1")).isEmpty)

        let san = try Harness()
        await san.apply(Self.withPool("key-1", type: .iscsi))
        san.hypervisor.mutate { host in
            host.pools["ceph"]?.model.sourceHost = "san.example:3260"
            host.pools["ceph"]?.model.initiator = "iqn.2013-06.com.example:host"
        }
        #expect(await san.plan(Self.withPool("key-1", type: .iscsi)).isEmpty)
    }

    @Test("a pool whose key could not be read is left alone with its object and volumes")
    func held() async throws {
        let harness = try Harness()
        var desired = Self.withPool("key-1")
        desired.held = [HeldResource(kind: .pool, name: "ceph", reason: "its authentication cannot be set up: missing")]
        let plan = await harness.plan(desired)
        #expect(!plan.steps.contains { $0.resource.name.contains("ceph") }, "\(plan.steps.map(\.id))")
        #expect(plan.notes.contains { $0.severity == .error && $0.message == "pool ceph is left exactly as it is: its authentication cannot be set up: missing" })
        #expect(plan.steps.contains { $0.id == "create:domain:local/web-1" })
    }

    @Test("an unmanaged rbd pool on the host is observed and never changed, and gets no secret object")
    func unmanaged() async throws {
        let harness = try Harness()
        let desired = Self.withPool("key-1", volume: false)
        var theirs = desired.hosts[0].pools.first { $0.name == "ceph" }
        theirs?.sourceName = "other"
        theirs?.auth = nil
        harness.hypervisor.mutate { host in
            if let theirs { host.pools["ceph"] = ObservedPool(model: theirs, uuid: "5b0c7d4e-0000-4000-8000-000000000001", active: true) }
        }
        let plan = await harness.plan(desired)
        #expect(!plan.steps.contains { $0.resource.kind == .pool && $0.resource.name == "ceph" }, "\(plan.steps.map(\.id))")
        #expect(plan.notes.contains { $0.message.contains("pool ceph exists and is not managed by virtsync; used as it is, never changed (differs in: source.name, source.auth)") },
                "\(plan.notes.map(\.message))")
        #expect(!plan.steps.contains { $0.resource.kind == .secret }, "\(plan.steps.map(\.id))")
        #expect(await harness.plan(lab()).steps.allSatisfy { $0.resource.kind != .pool || $0.resource.name != "ceph" })
    }
}
