import Testing
import VirtsyncCore

/// The plan warns about HA VMs whose disks are not on shared storage: no other host could
/// restart them.
@Suite("HA notes in the plan")
struct HANotesTests {
    static let shared = PoolModel(name: "shared", type: .dir, path: "/srv/shared")
    static let local = PoolModel(name: "local", type: .dir, path: "/var/lib/local")

    /// Hosts a and b with both pools (`shared` is shared), and `machines`.
    static func desired(_ machines: [ClusterMachine]) -> DesiredState {
        let hosts = ["a", "b"].map { DesiredHost(name: $0, uri: "qemu+ssh://\($0)/system", memoryCapacity: .gib(8), pools: [shared, local]) }
        return DesiredState(hosts: hosts, specDigest: "d1", machines: machines, sharedPools: ["shared"])
    }

    static func machine(_ name: String, ha: Bool, disks: [DiskModel], seed: VolumeModel? = nil) -> ClusterMachine {
        ClusterMachine(domain: DomainModel(name: name, memory: .mib(64), disks: disks),
                       placement: DesiredPlacement(rule: PlacementRule(pinned: "a"), ha: ha), seed: seed)
    }

    static func haNotes(_ plan: Plan) -> [PlanNote] { plan.notes.filter { $0.message.contains("(ha) cannot fail over") } }

    @Test("an HA VM with a disk by path, in a pool that is not shared, or a local seed gets one warning per disk")
    func localDisks() {
        let seed = VolumeModel(pool: "local", name: "db-cidata-0123abcd.iso", capacity: .kib(372), format: .iso, source: .generated(digest: "0123abcd"))
        let db = Self.machine("db", ha: true, disks: [
            DiskModel(target: "vda", source: .volume(pool: "shared", volume: "db.qcow2")),
            DiskModel(target: "vdb", source: .volume(pool: "local", volume: "data.qcow2")),
            DiskModel(target: "vdc", source: .file(path: "/var/lib/images/db.img")),
            DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "local", volume: seed.name), readonly: true),
        ], seed: seed)
        let desired = Self.desired([db])
        let plan = Planner.plan(desired: desired, observed: desired.emptyCluster)
        let tail = "is not on shared storage; it will not be restarted on another host when its host dies"
        #expect(Self.haNotes(plan) == [
            PlanNote(severity: .warning, message: "domain db (ha) cannot fail over: disk vdb (local/data.qcow2) \(tail)"),
            PlanNote(severity: .warning, message: "domain db (ha) cannot fail over: disk vdc (/var/lib/images/db.img) \(tail)"),
            PlanNote(severity: .warning, message: "domain db (ha) cannot fail over: disk sda (local/db-cidata-0123abcd.iso, the cloud-init seed) \(tail)"),
        ], "\(plan.notes)")
        #expect(TextRenderer(color: false).render(plan).contains("warning: domain db (ha) cannot fail over: disk vdb (local/data.qcow2) \(tail)"))
    }

    @Test("no warning for an HA VM on shared storage, nor for a VM that is not HA")
    func noWarning() {
        let desired = Self.desired([
            Self.machine("db", ha: true, disks: [DiskModel(target: "vda", source: .volume(pool: "shared", volume: "db.qcow2"))]),
            Self.machine("web", ha: false, disks: [DiskModel(target: "vda", source: .volume(pool: "local", volume: "web.qcow2"))]),
        ])
        #expect(Self.haNotes(Planner.plan(desired: desired, observed: desired.emptyCluster)).isEmpty)
    }

    @Test("a single-host desired state has no cluster machines, so no warning")
    func singleHost() {
        let vm = DomainModel(name: "db", memory: .mib(64), disks: [DiskModel(target: "vda", source: .volume(pool: "local", volume: "db.qcow2"))])
        let desired = DesiredState(hosts: [DesiredHost(name: "local", pools: [Self.local], domains: [vm])], specDigest: "d1")
        #expect(HANotes.failover(desired).isEmpty)
        #expect(Self.haNotes(Planner.plan(desired: desired, observed: desired.emptyCluster)).isEmpty)
    }
}
