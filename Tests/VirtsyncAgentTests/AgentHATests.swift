import Foundation
import Logging
import Testing
import VirtsyncAgent
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting
import VirtsyncTestSupport

/// What the agent's pass does differently with HA: the power of running HA VMs is HA's, their
/// autostart is off, and the runner gets the spec's HA view every pass.
@Suite("Agent with HA")
struct AgentHATests {
    static func machine(_ name: String, ha: Bool, power: PowerState = .running) -> ClusterMachine {
        var domain = DomainModel(name: name, memory: .mib(64))
        domain.power = power
        domain.autostart = true
        return ClusterMachine(domain: domain, placement: DesiredPlacement(ha: ha))
    }

    static func make() throws -> (AgentHA, DesiredState) {
        let (ha, desired, _) = try makeWithState()
        return (ha, desired)
    }

    static func makeWithState() throws -> (AgentHA, DesiredState, AgentState) {
        let directory = NSTemporaryDirectory() + "agent-ha-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clock = ManualClock()
        let state = AgentState(status: AgentStatus(host: "a", source: "test", pid: 1, startedAt: Date()),
                               files: AgentFiles(stateDirectory: directory), clock: clock)
        let etcd = ModelCoordinator(now: { .zero })
        let runner = HARunner(host: "a", timings: HATimings(), spec: HASpec(), resumed: nil, coordinator: etcd.client(for: "a"),
                              domains: ModelDomains(host: "a", defined: [], journal: ModelJournal()), watchdog: nil, clock: clock,
                              now: { .zero }, persist: { _ in })
        let ha = AgentHA(runner: runner, definitions: HADefinitions(), timings: HATimings(), state: state, now: { .zero })
        let desired = DesiredState(hosts: [DesiredHost(name: "a"), DesiredHost(name: "b")], specDigest: "d",
                                   machines: [machine("web", ha: true), machine("batch", ha: false), machine("cold", ha: true, power: .stopped)],
                                   owner: "team/x")
        return (ha, desired, state)
    }

    static func step(_ action: StepAction, _ name: String) -> PlanStep {
        PlanStep(action: action, resource: ResourceRef(kind: .domain, host: "a", name: name), disruption: .none, reason: "test")
    }

    @Test("the pass never starts, stops, restarts or migrates a running HA VM; it still defines and updates it; other VMs are untouched")
    func planFiltered() async throws {
        let (ha, desired) = try Self.make()
        let steps = [Self.step(.create, "web"), Self.step(.start, "web"), Self.step(.stop, "web"), Self.step(.restart, "web"),
                     Self.step(.migrate, "web"), Self.step(.update, "web"), Self.step(.start, "batch"), Self.step(.stop, "cold")]
        let plan = Plan(basis: PlanBasis(specDigest: "d", observedFingerprint: "f"), steps: steps)
        let observed = desired.emptyCluster
        let kept = await ha.planned(plan, desired: desired, observed: observed)
        #expect(kept.steps.map { "\($0.action.rawValue) \($0.resource.name)" } == ["create web", "update web", "start batch", "stop cold"])
        // The runner now knows the spec's HA VMs, and where the spec's placement puts them.
        let spec = await ha.runner.state.spec
        #expect(Set(spec.machines.map(\.name)) == ["web", "cold"])
        #expect(spec.machines.first { $0.name == "cold" }?.shouldRun == false)
        #expect(spec.others.map(\.name) == ["batch"])
        #expect(spec.assigned["web"] != nil)
        // The definition a takeover needs elsewhere: autostart off, marked for this spec's owner.
        let definition = try #require(ha.definitions["web"])
        #expect(definition.0.autostart == false)
        #expect(definition.1.owner == "team/x")
        #expect(ha.definitions.owner == .some("team/x"))
    }

    @Test("HA VMs plan with autostart off; other VMs keep theirs")
    func autostartOff() throws {
        let (ha, desired) = try Self.make()
        let prepared = ha.prepare(desired)
        #expect(prepared.machines.first { $0.domain.name == "web" }?.domain.autostart == false)
        #expect(prepared.machines.first { $0.domain.name == "batch" }?.domain.autostart == true)
    }

    @Test("fence actions by cause, takeovers and their recovery time reach the metrics (promtool-clean) and the status")
    func metricsAndStatus() async throws {
        let (ha, _, state) = try Self.makeWithState()
        ha.observe(.stopping(vm: "web", cause: .leaseDeadline))
        ha.observe(.stopping(vm: "db", cause: .staleEpoch))
        ha.observe(.stopping(vm: "api", cause: .leaseDeadline))
        ha.observe(.recovery(HARecovery(vm: "db", from: "b", epoch: 42, leaseGoneAt: .seconds(10), runningAt: .milliseconds(11_700))))
        await ha.refresh()
        let scrape = Exposition(state.metrics.render())
        let lint = try await scrape.promtool()
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(scrape.value("virtsync_ha_fence_actions_total", ["cause": "leaseDeadline"]) == 2)
        #expect(scrape.value("virtsync_ha_fence_actions_total", ["cause": "staleEpoch"]) == 1)
        #expect(scrape.value("virtsync_ha_failovers_total") == 1)
        #expect(scrape.value("virtsync_ha_recovery_seconds_count") == 1)
        #expect(scrape.value("virtsync_ha_lease_valid") == 0, "no lease held yet")
        let status = try #require(state.snapshot.ha)
        #expect(status.stops.map(\.vm) == ["api", "db", "web"], "newest first")
        #expect(status.failovers.first.map { "\($0.vm) \($0.from) \($0.epoch)" } == "db b 42")
        #expect(abs((status.failovers.first?.seconds ?? 0) - 1.7) < 0.001)
        #expect(StatusText.renderHA(status).contains("db from b, epoch 42, running 1.70s after the lease was seen gone"))
    }

    @Test("status shows moves held back; status --cluster tells a move from a takeover and shows a move in flight")
    func movesInStatus() {
        var status = HAStatus(lease: 7, leaseValidSeconds: 2, members: ["a", "b"])
        status.heldMoves = ["db": "failback waits until a has held its HA lease for 60 seconds (12 seconds so far)"]
        #expect(StatusText.renderHA(status).contains("moves held back:\n    db: failback waits until a"))
        let details = HAClusterDetails(revision: 40, members: [.init(host: "a", lease: 1, since: nil, secondsLeft: 4),
                                                                .init(host: "b", lease: 2, since: nil, secondsLeft: 4)],
                                       owners: [.init(vm: "db", host: "a", epoch: 31, lease: 1, from: "b", at: nil, moved: true),
                                                .init(vm: "web", host: "b", epoch: 35, lease: 2, from: "c", at: nil),
                                                .init(vm: "api", host: "a", epoch: 39, lease: 1, from: nil, at: nil, movingTo: "b")])
        let text = StatusText.renderCluster(details, endpoints: ["e:2379"], prefix: "/virtsync", local: nil)
        #expect(text.contains("moved from b by live migration"))
        #expect(text.contains("taken over from c"))
        #expect(text.contains("first claim, MOVING to b now"))
    }

    @Test("the persisted lease is resumed in the boot that wrote it, never after a reboot (the boot clock starts again at zero)")
    func leaseFileBoot() throws {
        let directory = try ScratchDirectory(prefix: "ha-lease")
        let path = directory.path("ha-lease.json")
        let logger = Logger(label: "test")
        let lease = HAPersisted(lease: 42, validUntil: .seconds(5000))
        HALeaseFile(path: path, bootID: "boot-1").write(lease, logger: logger)
        #expect(HALeaseFile(path: path, bootID: "boot-1").read(logger: logger) == lease)
        #expect(HALeaseFile(path: path, bootID: "boot-2").read(logger: logger) == nil, "another boot")
        #expect(HALeaseFile(path: path, bootID: nil).read(logger: logger) == nil, "no boot identifier")
        // The previous format, without a boot, is not resumed either.
        try JSONEncoder().encode(lease).write(to: URL(fileURLWithPath: path))
        #expect(HALeaseFile(path: path, bootID: "boot-1").read(logger: logger) == nil)
        HALeaseFile(path: path, bootID: "boot-1").write(nil, logger: logger)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(HALeaseFile.currentBootID()?.count == 36, "this machine's boot id")
    }
}
