import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// The planner over what this adapter observes: after applying a plan, the next plan must be
/// empty, or every pass would churn.
@Suite("convergence through libvirt")
struct ConvergenceTests {
    static func desired(_ domains: [DomainModel]) -> DesiredState {
        DesiredState(hosts: [DesiredHost(
            name: Steps.host, uri: Fixture.nodeURI,
            networks: [Models.natNetwork, Models.isolatedNetwork],
            pools: [Models.dirPool],
            volumes: [Models.baseVolume, Models.overlayVolume, Models.rawVolume],
            domains: domains)], specDigest: "sp3c")
    }

    static let web = DomainModel(
        name: "web-1", vcpus: 2, memory: .mib(256), machine: "q35", cpuMode: .hostModel,
        disks: [DiskModel(target: "vda", source: .volume(pool: "images", volume: "web-1-root.qcow2")),
                DiskModel(target: "vdb", source: .volume(pool: "images", volume: "data.raw"), readonly: true),
                DiskModel(target: "sda", bus: .sata, cdrom: true, source: .file(path: "/srv/iso/x.iso"), readonly: true)],
        interfaces: [InterfaceModel(source: .network("default")),
                     InterfaceModel(source: .network("isolated"), mac: "52:54:00:00:00:42", linkUp: false)],
        graphics: .vnc, autostart: true, extraXML: ExtraXML(devices: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"))
    static let idle = DomainModel(name: "idle", memory: .mib(64), firmware: .uefi, serialConsole: false, power: .stopped)

    @Test("after applying a plan, the next plan is empty; a change plans only that change")
    func converges() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-libvirt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let inventory = try InventoryStore(stateDirectory: state.path)
        // One session for all passes: every new connection to the test driver starts afresh.
        let workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: inventory, defaultURI: Fixture.nodeURI)
        let reconciler = workflow.reader
        var desired = Self.desired([Self.web, Self.idle])
        let (sessions, failed) = await reconciler.connect(desired)
        #expect(failed.isEmpty)

        let first = try await workflow.apply(desired)
        #expect(!first.plan.isEmpty)
        let report = try #require(first.report)
        #expect(report.ok, "\(report.results.filter { $0.outcome != .succeeded })")

        let (second, observed) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        #expect(observed.hosts[Steps.host]?.domains["web-1"]?.state == .running)
        #expect(observed.hosts[Steps.host]?.domains["idle"]?.state == .shutoff)

        // A memory change on the running VM: one update with a live operation, then quiet again.
        var web = Self.web
        web.memory = .mib(192)
        desired = Self.desired([web, Self.idle])
        let third = try await workflow.apply(desired)
        #expect(third.plan.steps.map(\.id) == ["update:domain:\(Steps.host)/web-1"])
        let update = try #require(third.report)
        #expect(update.ok, "\(update.results.filter { $0.outcome != .succeeded })")
        let (fourth, _) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(fourth.isEmpty, "\(fourth.steps.map { "\($0.id) \($0.changes)" })")
    }
}

/// Hands out one session per URI for the whole test: each new connection to a
/// `test:///file.xml` URI starts from the file again.
final class OneSessionConnector: HypervisorConnector, @unchecked Sendable {
    // `lock` guards `sessions`.
    private let lock = NSLock()
    private var sessions: [String: any HypervisorSession] = [:]

    func connect(host: String, uri: String) async throws -> any HypervisorSession {
        if let existing = lock.withLock({ sessions[uri] }) { return existing }
        let opened = try await LibvirtConnector().connect(host: host, uri: uri)
        lock.withLock { sessions[uri] = opened }
        return opened
    }
}
