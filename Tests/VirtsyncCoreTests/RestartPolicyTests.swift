import Foundation
import Testing
import VirtsyncCore
import VirtsyncTesting

/// One way a VM can be found stopped, and the cause it must be classified as.
struct StoppedVM: Sendable, CustomTestStringConvertible {
    let label: String
    let state: RunState
    let reason: StopReason?
    let byVirtsync: Bool
    let cause: StopCause

    init(_ label: String, _ cause: StopCause, reason: StopReason?, state: RunState = .shutoff, byVirtsync: Bool = false) {
        self.label = label
        self.state = state
        self.reason = reason
        self.byVirtsync = byVirtsync
        self.cause = cause
    }

    var testDescription: String { label }

    static let all: [StoppedVM] = [
        StoppedVM("stopped by virtsync (ACPI)", .notStarted, reason: .shutdown, byVirtsync: true),
        StoppedVM("stopped by virtsync (destroyed)", .notStarted, reason: .destroyed, byVirtsync: true),
        StoppedVM("never started", .notStarted, reason: .unknown),
        StoppedVM("reason not read", .notStarted, reason: nil),
        StoppedVM("saved", .notStarted, reason: .saved),
        StoppedVM("migrated away", .notStarted, reason: .migrated),
        StoppedVM("reverted to a snapshot", .notStarted, reason: .fromSnapshot),
        StoppedVM("stopped by the daemon", .notStarted, reason: .daemon),
        StoppedVM("crashed", .failure, reason: .crashed),
        StoppedVM("failed", .failure, reason: .failed),
        StoppedVM("destroyed by hand", .failure, reason: .destroyed),
        StoppedVM("libvirt's crashed state", .failure, reason: nil, state: .crashed),
        StoppedVM("libvirt's crashed state, reason unknown", .failure, reason: .unknown, state: .crashed),
        StoppedVM("shut down from inside", .cleanShutdown, reason: .shutdown),
        StoppedVM("a reason libvirt added later", .cleanShutdown, reason: .other),
    ]

    func observed(_ vm: DomainModel, managed: Bool = true) -> ObservedDomain {
        var domain = Lab.observed(vm, uuid: "u-1", state: state, managed: managed)
        domain.stopReason = reason
        domain.stoppedByVirtsync = byVirtsync
        return domain
    }
}

@Suite("restart policies")
struct RestartPolicyTests {
    enum Outcome { case started, leftStopped }

    /// Policy × cause: is the VM started? Written out, not derived from the implementation.
    static let outcomes: [RestartPolicy.Mode: [StopCause: Outcome]] = [
        .always: [.notStarted: .started, .failure: .started, .cleanShutdown: .started],
        .onFailure: [.notStarted: .started, .failure: .started, .cleanShutdown: .leftStopped],
        .never: [.notStarted: .started, .failure: .leftStopped, .cleanShutdown: .leftStopped],
    ]

    private func plan(_ vm: DomainModel, _ seen: ObservedDomain) -> Plan {
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: "d1gest")
        return Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local", domains: [vm.name: seen])]))
    }

    @Test("the defaults are always, 5 restarts, 10 minutes")
    func defaults() {
        #expect(RestartPolicy() == RestartPolicy(mode: .always, maxRestarts: 5, window: 600))
        #expect(DomainModel(name: "vm", memory: .mib(64)).restart == RestartPolicy())
        #expect(RestartPolicy.Mode.onFailure.rawValue == "on-failure")
    }

    @Test("every way of being stopped is classified", arguments: StoppedVM.all)
    func classification(_ stopped: StoppedVM) {
        let vm = DomainModel(name: "vm", memory: .mib(64))
        #expect(StopCause.classify(stopped.observed(vm)) == stopped.cause)
    }

    @Test("an active domain has no stop cause, even with a left-over reason or marker", arguments: [RunState.running, .paused])
    func activeIsNotStopped(_ state: RunState) {
        let seen = ObservedDomain(model: DomainModel(name: "vm", memory: .mib(64)), uuid: "u", state: state,
                                  stopReason: .crashed, stoppedByVirtsync: true)
        #expect(StopCause.classify(seen) == nil)
    }

    @Test("policy × cause: started, warned about or noted", arguments: RestartPolicy.Mode.allCases, StoppedVM.all)
    func planned(_ mode: RestartPolicy.Mode, _ stopped: StoppedVM) throws {
        let vm = DomainModel(name: "vm", memory: .mib(64), power: .running, restart: RestartPolicy(mode: mode))
        let plan = plan(vm, stopped.observed(vm))
        let expected = try #require(Self.outcomes[mode]?[stopped.cause])
        #expect(plan.steps.allSatisfy { $0.id == "start:domain:local/vm" })
        if expected == .started {
            let step = try #require(plan.steps.first)
            #expect(step.action == .start)
            #expect(step.disruption == .none)
            #expect(step.payload == .none)
            #expect(plan.notes.isEmpty, "\(plan.notes)")
            if stopped.cause == .notStarted {
                #expect(step.reason.hasPrefix("power: running"), "\(step.reason)")
            } else {
                #expect(step.reason.hasPrefix("restart (restartPolicy \(mode.rawValue)): the VM "), "\(step.reason)")
            }
        } else {
            #expect(plan.steps.isEmpty)
            let note = try #require(plan.notes.first)
            #expect(plan.notes.count == 1)
            #expect(note.severity == (stopped.cause == .failure ? .warning : .info))
            #expect(note.resource == ResourceRef(kind: .domain, host: "local", name: "vm"))
            #expect(note.message.contains("restartPolicy \(mode.rawValue) leaves it stopped"), "\(note.message)")
        }
    }

    @Test("a restart's reason says in words why the VM is started again")
    func reasonsInWords() {
        let vm = DomainModel(name: "vm", memory: .mib(64), restart: RestartPolicy(mode: .always))
        let reasons: [(StopReason?, RunState, String)] = [
            (.crashed, .shutoff, "restart (restartPolicy always): the VM crashed"),
            (nil, .crashed, "restart (restartPolicy always): the VM crashed"),
            (.failed, .shutoff, "restart (restartPolicy always): the VM failed"),
            (.destroyed, .shutoff, "restart (restartPolicy always): the VM was destroyed outside virtsync"),
            (.shutdown, .shutoff, "restart (restartPolicy always): the VM shut down"),
        ]
        for (reason, state, text) in reasons {
            var seen = Lab.observed(vm, uuid: "u", state: state)
            seen.stopReason = reason
            #expect(plan(vm, seen).steps.map(\.reason) == [text])
        }
        var never = vm
        never.restart.mode = .never
        var crashed = Lab.observed(never, uuid: "u", state: .shutoff)
        crashed.stopReason = .crashed
        #expect(plan(never, crashed).notes.map(\.message) == ["domain vm stopped (crashed); restartPolicy never leaves it stopped"])
    }

    @Test("a VM whose spec says stopped is never started, whatever its policy and however it stopped",
          arguments: RestartPolicy.Mode.allCases, StoppedVM.all)
    func stoppedStaysStopped(_ mode: RestartPolicy.Mode, _ stopped: StoppedVM) {
        let vm = DomainModel(name: "vm", memory: .mib(64), power: .stopped, restart: RestartPolicy(mode: mode))
        let plan = plan(vm, stopped.observed(vm))
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.isEmpty)
    }

    @Test("an unmanaged domain that crashed gets no step, whatever the policy", arguments: RestartPolicy.Mode.allCases)
    func unmanagedCrashed(_ mode: RestartPolicy.Mode) {
        let vm = DomainModel(name: "vm", memory: .mib(64), restart: RestartPolicy(mode: mode))
        let crashed = StoppedVM("crashed", .failure, reason: .crashed).observed(vm, managed: false)
        let plan = plan(vm, crashed)
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.map(\.severity) == [.warning])
        #expect(plan.notes.first?.message.contains("not managed by virtsync") == true)
    }

    @Test("the policy is never a change: a new policy on a stopped or running VM plans no update")
    func policyIsNotDrift() {
        let before = DomainModel(name: "vm", memory: .mib(64))
        var after = before
        after.restart = RestartPolicy(mode: .never, maxRestarts: 1, window: 60)
        let running = Lab.observed(before, uuid: "u", state: .running)
        #expect(plan(after, running).steps.isEmpty)
        var stopped = Lab.observed(before, uuid: "u", state: .shutoff)
        stopped.stoppedByVirtsync = true
        #expect(plan(after, stopped).steps.map(\.action) == [.start])
    }

    @Test("the default policy is left out of the JSON, another one is written and read back")
    func coding() throws {
        let plain = DomainModel(name: "vm", memory: .mib(64))
        let text = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!text.contains("restart\""))
        var custom = plain
        custom.restart = RestartPolicy(mode: .onFailure, maxRestarts: 3, window: 3600)
        let decoded = try JSONDecoder().decode(DomainModel.self, from: JSONEncoder().encode(custom))
        #expect(decoded == custom)
        #expect(try JSONDecoder().decode(DomainModel.self, from: Data(text.utf8)) == plain)

        let seen = ObservedDomain(model: plain, uuid: "u", state: .shutoff, stopReason: .fromSnapshot, stoppedByVirtsync: true)
        let seenText = String(decoding: try JSONEncoder().encode(seen), as: UTF8.self)
        #expect(seenText.contains("\"from-snapshot\""))
        #expect(try JSONDecoder().decode(ObservedDomain.self, from: Data(seenText.utf8)) == seen)
        // An observed domain written before these fields existed reads back without them.
        let old = ObservedDomain(model: plain, uuid: "u", state: .running)
        let oldText = String(decoding: try JSONEncoder().encode(old), as: UTF8.self)
        #expect(!oldText.contains("stopReason") && !oldText.contains("stoppedByVirtsync"))
        #expect(try JSONDecoder().decode(ObservedDomain.self, from: Data(oldText.utf8)) == old)
    }
}

/// Against the in-memory hypervisor: apply the plan, and the next plan has nothing to do.
@Suite("restart policies against an honest hypervisor")
struct RestartConvergenceTests {
    private func desired(_ mode: RestartPolicy.Mode, power: PowerState = .running) -> DesiredState {
        let vm = DomainModel(name: "vm", memory: .mib(64), power: power, restart: RestartPolicy(mode: mode))
        return DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: "d1gest")
    }

    private func plan(_ desired: DesiredState, _ hypervisor: InMemoryHypervisor) async throws -> Plan {
        let host = try await hypervisor.observe(host: "local")
        return Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": host]))
    }

    /// Plans and applies every step; returns the plan.
    @discardableResult
    private func apply(_ desired: DesiredState, _ hypervisor: InMemoryHypervisor) async throws -> Plan {
        let plan = try await plan(desired, hypervisor)
        for step in plan.steps { try await hypervisor.apply(step) }
        return plan
    }

    private func domain(_ hypervisor: InMemoryHypervisor) throws -> ObservedDomain {
        try #require(hypervisor.snapshot.domains["vm"])
    }

    @Test("a crashed or destroyed VM is restarted as its policy allows, and then nothing is left to do",
          arguments: RestartPolicy.Mode.allCases, [true, false])
    func restartConverges(_ mode: RestartPolicy.Mode, crash: Bool) async throws {
        let hypervisor = InMemoryHypervisor()
        let spec = desired(mode)
        try await apply(spec, hypervisor)
        #expect(try domain(hypervisor).state == .running)
        if crash { hypervisor.crash(domain: "vm") } else { hypervisor.destroyByHand(domain: "vm") }
        let seen = try domain(hypervisor)
        #expect(seen.stopReason == (crash ? .crashed : .destroyed))
        #expect(!seen.stoppedByVirtsync)
        let restart = try await apply(spec, hypervisor)
        #expect(restart.steps.map(\.action) == (mode == .never ? [] : [.start]))
        #expect(try domain(hypervisor).state == (mode == .never ? .shutoff : .running))
        let again = try await plan(spec, hypervisor)
        #expect(again.steps.isEmpty, "\(again.steps.map(\.id))")
    }

    @Test("a guest that shut itself down is started again only under always", arguments: RestartPolicy.Mode.allCases)
    func shutdownConverges(_ mode: RestartPolicy.Mode) async throws {
        let hypervisor = InMemoryHypervisor()
        let spec = desired(mode)
        try await apply(spec, hypervisor)
        hypervisor.shutDownFromGuest(domain: "vm")
        let restart = try await apply(spec, hypervisor)
        #expect(restart.steps.map(\.action) == (mode == .always ? [.start] : []))
        #expect(try await plan(spec, hypervisor).steps.isEmpty)
    }

    @Test("a VM virtsync stopped is marked, and started again when the spec says running, even under never")
    func stoppedByVirtsync() async throws {
        let hypervisor = InMemoryHypervisor()
        try await apply(desired(.never), hypervisor)
        let stop = try await apply(desired(.never, power: .stopped), hypervisor)
        #expect(stop.steps.map(\.action) == [.stop])
        let stopped = try domain(hypervisor)
        #expect(stopped.stoppedByVirtsync)
        #expect(stopped.stopReason == .shutdown)
        #expect(StopCause.classify(stopped) == .notStarted)
        #expect(try await plan(desired(.never, power: .stopped), hypervisor).steps.isEmpty)

        let start = try await apply(desired(.never), hypervisor)
        #expect(start.steps.map(\.reason) == ["power: running, but the VM is shutoff"])
        let started = try domain(hypervisor)
        #expect(started.state == .running)
        #expect(!started.stoppedByVirtsync)
        #expect(started.stopReason == nil)
        #expect(try await plan(desired(.never), hypervisor).steps.isEmpty)
    }

    @Test("a new VM is created and started whatever its policy: its first start is no restart", arguments: RestartPolicy.Mode.allCases)
    func firstStart(_ mode: RestartPolicy.Mode) async throws {
        let hypervisor = InMemoryHypervisor()
        let create = try await apply(desired(mode), hypervisor)
        #expect(create.steps.map(\.action) == [.create, .start])
        #expect(try domain(hypervisor).model.restart == RestartPolicy(), "the observed model carries the default")
        #expect(try await plan(desired(mode), hypervisor).steps.isEmpty)
    }
}
