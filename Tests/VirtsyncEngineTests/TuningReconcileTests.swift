import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// `power: paused`, CPU pinning (live) and the next-boot CPU/memory fields, reconciled against
/// the in-memory hypervisor.
@Suite("paused power and CPU/memory tuning against an honest in-memory hypervisor")
struct TuningReconcileTests {
    private func desired(_ vm: DomainModel) -> DesiredState {
        DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: "d")
    }

    private func vm(power: PowerState = .running, cpu: DomainCPU = DomainCPU(), tuning: DomainMemoryTuning = DomainMemoryTuning(),
                    listen: String? = nil) -> DomainModel {
        DomainModel(name: "vsc-vm", vcpus: 2, maxVcpus: 2, memory: .mib(64), graphics: .vnc, power: power,
                    cpu: cpu, memoryTuning: tuning, graphicsListen: listen)
    }

    @Test("a new VM with power paused is created, started, then suspended; the next plan is empty")
    func createPaused() async throws {
        let h = try Harness()
        let (plan, report) = await h.apply(desired(vm(power: .paused)))
        #expect(plan.steps.map(\.id) == ["create:domain:local/vsc-vm", "start:domain:local/vsc-vm", "suspend:domain:local/vsc-vm"])
        #expect(plan.steps.last?.dependsOn.contains("start:domain:local/vsc-vm") == true)
        #expect(plan.steps.last?.disruption == .stop)
        #expect(report.ok)
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.state == .paused)
        #expect(await h.plan(desired(vm(power: .paused))).steps.isEmpty)
    }

    @Test("running → paused suspends, paused → running resumes, and each second pass plans nothing")
    func suspendResume() async throws {
        let h = try Harness()
        await h.apply(desired(vm()))
        let pause = await h.plan(desired(vm(power: .paused)))
        #expect(pause.steps.map(\.action) == [.suspend])
        #expect(pause.steps.first?.changes == [FieldChange(field: "power", before: "running", after: "paused", disruption: .stop)])
        await h.apply(desired(vm(power: .paused)))
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.state == .paused)
        #expect(await h.plan(desired(vm(power: .paused))).steps.isEmpty)

        let resume = await h.plan(desired(vm()))
        #expect(resume.steps.map(\.action) == [.resume])
        #expect(resume.steps.first?.disruption == Disruption.none)
        await h.apply(desired(vm()))
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.state == .running)
        #expect(await h.plan(desired(vm())).steps.isEmpty)

        // A paused VM told to stop is stopped.
        await h.apply(desired(vm(power: .paused)))
        let stop = await h.plan(desired(vm(power: .stopped)))
        #expect(stop.steps.map(\.action) == [.stop])
    }

    @Test("a stopped VM with power paused is started and suspended, in that order")
    func stoppedToPaused() async throws {
        let h = try Harness()
        await h.apply(desired(vm(power: .stopped)))
        let plan = await h.plan(desired(vm(power: .paused)))
        #expect(plan.steps.map(\.action) == [.start, .suspend])
        await h.apply(desired(vm(power: .paused)))
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.state == .paused)
    }

    @Test("a changed vCPU pin on a running VM is live, with one pin operation per changed vCPU; the next plan is empty")
    func pinningLive() async throws {
        let h = try Harness()
        let first = DomainCPU(vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0])), VCPUPin(vcpu: 1, cpuset: CPUSet([1]))], emulatorPin: CPUSet([0, 1]))
        await h.apply(desired(vm(cpu: first)))
        #expect(await h.plan(desired(vm(cpu: first))).steps.isEmpty)

        let moved = DomainCPU(vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0])), VCPUPin(vcpu: 1, cpuset: CPUSet([0]))], emulatorPin: CPUSet([1]))
        let plan = await h.plan(desired(vm(cpu: moved)))
        let step = try #require(plan.steps.first)
        #expect(plan.steps.count == 1)
        #expect(step.disruption == .live)
        #expect(step.changes.map(\.field) == ["cpu.pinning.vcpus", "cpu.pinning.emulator"])
        guard case .domain(_, let live, _) = step.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.pinVcpu(vcpu: 1, cpuset: CPUSet([0])), .pinEmulator(CPUSet([1]))])
        await h.apply(desired(vm(cpu: moved)))
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.live?.vcpuPins == moved.vcpuPins)
        #expect(await h.plan(desired(vm(cpu: moved))).steps.isEmpty)

        // A pin removed cannot be undone live: it waits for the next boot.
        let fewer = DomainCPU(vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0]))], emulatorPin: CPUSet([1]))
        let removal = await h.plan(desired(vm(cpu: fewer)))
        #expect(removal.steps.first?.disruption == .nextBoot)
    }

    @Test("model, features, topology, NUMA, memory backing and listen changes on a running VM wait for the next boot")
    func nextBootFields() async throws {
        let h = try Harness()
        await h.apply(desired(vm()))
        let cpu = DomainCPU(model: CPUModelChoice(name: "qemu64"), features: [CPUFeature(name: "svm", policy: .disable)],
                            topology: CPUTopology(sockets: 1, cores: 2, threads: 1))
        let tuning = DomainMemoryTuning(numaCells: [NUMACell(cpus: CPUSet([0, 1]), memory: .mib(64))],
                                        numaTune: NUMATune(mode: .strict, nodeset: CPUSet([0])), hugepages: .size(.mib(2)), locked: true)
        let changed = vm(cpu: cpu, tuning: tuning, listen: "0.0.0.0")
        let plan = await h.plan(desired(changed))
        let step = try #require(plan.steps.first)
        #expect(plan.steps.count == 1)
        #expect(step.changes.map(\.field) == ["cpu.model", "cpu.features", "cpu.topology", "numa.cells", "numa.tune",
                                              "memoryBacking.hugepages", "memoryBacking.locked", "graphics.listen"])
        #expect(step.changes.allSatisfy { $0.disruption == .nextBoot })
        #expect(step.changes.first { $0.field == "memoryBacking.hugepages" }?.before == "off")
        await h.apply(desired(changed))
        #expect(await h.plan(desired(changed)).steps.isEmpty)
        // Left out again, the fields are open: nothing to do, the VM keeps them.
        #expect(await h.plan(desired(vm())).steps.isEmpty)
        #expect(h.hypervisor.snapshot.domains["vsc-vm"]?.model.cpu.topology == cpu.topology)
    }
}
