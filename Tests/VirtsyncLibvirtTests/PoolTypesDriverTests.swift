import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// iscsi, rbd and zfs pools cannot run on this machine (no iSCSI target, no Ceph, no ZFS), so
/// they are applied to libvirt's test driver, which defines and starts a pool of any type
/// without touching storage: what virtsync writes comes back as libvirt echoes it, and the next
/// plan must be empty. The test driver has no secrets API, so these pools go without `auth`
/// here (authentication: golden XML and `PoolAuthReconcileTests`).
@Suite("iscsi, rbd and zfs pools on the test driver")
struct PoolTypesDriverTests {
    static func desired(_ pools: [PoolModel], volumes: [VolumeModel]) -> DesiredState {
        DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, pools: pools, volumes: volumes)], specDigest: "sp3c")
    }

    static let volumes = [VolumeModel(pool: "ceph", name: "data", capacity: .gib(1), format: .raw),
                          VolumeModel(pool: "tank", name: "vm-1", capacity: .mib(512), format: .raw)]

    @Test("iscsi, rbd and zfs pools and their volumes converge: after the apply the next plan is empty; a source change is a replace")
    func converges() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-pools-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: try InventoryStore(stateDirectory: state.path),
                                     defaultURI: Fixture.nodeURI)
        let reconciler = workflow.reader
        let desired = Self.desired([Models.iscsiPool, Models.rbdPool, Models.zfsPool], volumes: Self.volumes)
        let (sessions, failed) = await reconciler.connect(desired)
        #expect(failed.isEmpty)

        let first = try await workflow.apply(desired)
        #expect(first.plan.steps.map(\.id).sorted() == ["create:pool:local/ceph", "create:pool:local/san", "create:pool:local/tank",
                                                        "create:volume:local/ceph/data", "create:volume:local/tank/vm-1"])
        let report = try #require(first.report)
        #expect(report.ok, "\(report.results.filter { $0.outcome != .succeeded })")

        let (second, observed) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" }) \(second.notes)")
        let live = try #require(observed.hosts[Steps.host])
        #expect(live.pools["ceph"]?.model.sourceHosts == Models.rbdPool.sourceHosts)
        #expect(live.pools["san"]?.model.devices == Models.iscsiPool.devices)
        #expect(live.pools["tank"]?.model.sourceName == "tank")
        let inactive = ["ceph", "san", "tank"].filter { live.pools[$0]?.active != true }
        #expect(inactive.isEmpty)
        #expect(live.volumes["ceph/data"]?.model.format == .raw)

        // A new target redefines the iscsi pool (the test driver, unlike Ceph, would drop an rbd
        // pool's volumes with its definition, so the iscsi pool, which has none, is the one moved).
        var moved = Models.iscsiPool
        moved.devices = ["iqn.2013-06.com.example:vms-2"]
        let changed = Self.desired([moved, Models.rbdPool, Models.zfsPool], volumes: Self.volumes)
        let third = try await workflow.apply(changed)
        #expect(third.plan.steps.map(\.id) == ["replace:pool:local/san"])
        #expect(third.plan.steps.first?.changes.map(\.field) == ["source.target"])
        #expect(third.report?.ok == true, "\(third.report?.results.filter { $0.outcome != .succeeded } ?? [])")
        let (fourth, _) = await reconciler.plan(changed, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(fourth.isEmpty, "\(fourth.steps.map { "\($0.id) \($0.changes)" })")

        // autostart alone is an update in place: libvirt's /dev/zvol/tank is no reason to redefine.
        var quiet = Models.zfsPool
        quiet.autostart = false
        let off = Self.desired([moved, Models.rbdPool, quiet], volumes: Self.volumes)
        let fifth = try await workflow.apply(off)
        #expect(fifth.plan.steps.map(\.id) == ["update:pool:local/tank"] && fifth.plan.steps.first?.disruption == Disruption.none)
        #expect(fifth.report?.ok == true, "\(fifth.report?.results.filter { $0.outcome != .succeeded } ?? [])")
        let (sixth, last) = await reconciler.plan(off, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(sixth.isEmpty, "\(sixth.steps.map { "\($0.id) \($0.changes)" })")
        #expect(last.hosts[Steps.host]?.volumes["tank/vm-1"] != nil)
    }
}
