import Testing
import VirtsyncCore

/// Removals that would pull something from under a user: a domain (by volume or by file path),
/// an overlay on a base image, a running guest that keeps its old device until it restarts.
@Suite("Nothing in use is removed")
struct InUseTests {
    let pool = PoolModel(name: "lab", type: .dir, path: "/p")

    func observed(_ change: (inout ObservedHost) -> Void) -> ObservedState {
        var h = ObservedHost(name: "local")
        h.pools["lab"] = ObservedPool(model: pool, uuid: "p", active: true, managed: true)
        h.volumes["lab/base.qcow2"] = ObservedVolume(model: VolumeModel(pool: "lab", name: "base.qcow2", capacity: .gib(1), format: .qcow2), path: "/p/base.qcow2", managed: true)
        h.volumes["lab/data.raw"] = ObservedVolume(model: VolumeModel(pool: "lab", name: "data.raw", capacity: .gib(1), format: .raw), path: "/p/data.raw", managed: true)
        change(&h)
        return ObservedState(hosts: ["local": h])
    }

    func desired(_ domains: [DomainModel] = [], networks: [NetworkModel] = []) -> DesiredState {
        DesiredState(hosts: [DesiredHost(name: "local", networks: networks, pools: [pool], domains: domains)],
                     settings: SpecSettings(prune: true, maxDeleteFraction: 1, deleteVolumesWithVM: true), specDigest: "d")
    }

    @Test("a volume attached by file path to an unmanaged domain is kept, even with pruning and volume deletion")
    func filePathUser() {
        let obs = observed {
            $0.domains["theirs"] = ObservedDomain(model: DomainModel(name: "theirs", memory: .mib(32), disks: [DiskModel(target: "vda", source: .file(path: "/p/data.raw"))]),
                                                  uuid: "t", state: .running)
        }
        let plan = Planner.plan(desired: desired(), observed: obs)
        #expect(!plan.steps.contains { $0.resource.name == "lab/data.raw" })
        #expect(plan.notes.contains { $0.message.contains("data.raw") && $0.message.contains("theirs") })
        #expect(plan.steps.contains { $0.id == "delete:volume:local/lab/base.qcow2" })
    }

    @Test("a base image is kept while an overlay is built on it")
    func overlayBlocksBase() {
        let obs = observed {
            $0.volumes["lab/web.qcow2"] = ObservedVolume(model: VolumeModel(pool: "lab", name: "web.qcow2", capacity: .gib(2), format: .qcow2,
                                                         source: .backing(pool: "lab", volume: "base.qcow2")), path: "/p/web.qcow2")
        }
        let plan = Planner.plan(desired: desired(), observed: obs)
        #expect(!plan.steps.contains { $0.resource.name == "lab/base.qcow2" })
        #expect(plan.notes.contains { $0.message.contains("overlay lab/web.qcow2") })
    }

    @Test("a managed network is kept while an unmanaged domain is plugged into it")
    func networkInUse() {
        let obs = observed {
            $0.networks["old"] = ObservedNetwork(model: NetworkModel(name: "old", mode: .isolated), uuid: "n", active: true, managed: true)
            $0.domains["theirs"] = ObservedDomain(model: DomainModel(name: "theirs", memory: .mib(32), interfaces: [InterfaceModel(source: .network("old"), mac: "52:54:00:00:00:01")]),
                                                  uuid: "t", state: .running)
        }
        let plan = Planner.plan(desired: desired(), observed: obs)
        #expect(!plan.steps.contains { $0.resource.kind == .network })
        #expect(plan.notes.contains { $0.message.contains("network old") && $0.message.contains("theirs") })
    }

    @Test("a running VM redefined without a disk keeps the volume until it restarts; with restarts allowed the delete waits for the restart")
    func runningGuestKeepsItsDisk() {
        let marker = OwnershipMarker(specDigest: "x")
        let old = DomainModel(name: "web", memory: .mib(32), disks: [DiskModel(target: "vda", source: .volume(pool: "lab", volume: "data.raw"))])
        let obs = observed { $0.domains["web"] = ObservedDomain(model: old, uuid: "w", state: .running, marker: marker) }
        var wanted = DomainModel(name: "web", memory: .mib(32))
        let pending = Planner.plan(desired: desired([wanted]), observed: obs)
        #expect(pending.steps.map(\.id).contains("update:domain:local/web"))
        #expect(!pending.steps.contains { $0.resource.name == "lab/data.raw" })
        wanted.restartForUpdates = true
        let restarting = Planner.plan(desired: desired([wanted]), observed: obs)
        let delete = restarting.steps.first { $0.id == "delete:volume:local/lab/data.raw" }
        #expect(delete?.dependsOn.contains("restart:domain:local/web") == true)
        let order = restarting.steps.map(\.id)
        #expect((order.firstIndex(of: "restart:domain:local/web") ?? 99) < (order.firstIndex(of: "delete:volume:local/lab/data.raw") ?? -1))
    }
}
