import VirtsyncCore

extension PlanCase {
    /// CPU and memory tuning: a new VM with everything set (every field in the plan); a running
    /// VM whose pins move (live, with its pin operations) and whose topology and huge pages
    /// change (next boot); a running VM whose spec leaves the fields open while libvirt has
    /// its own (`match`, a model it chose): nothing to do.
    static let cpuTuning: PlanCase = {
        let cpu = DomainCPU(model: CPUModelChoice(name: "EPYC-Rome", fallback: .forbid),
                            features: [CPUFeature(name: "x2apic", policy: .require), CPUFeature(name: "svm", policy: .disable)],
                            topology: CPUTopology(sockets: 1, dies: 1, cores: 2, threads: 2),
                            vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([2])), VCPUPin(vcpu: 1, cpuset: CPUSet([3]))],
                            emulatorPin: CPUSet([0, 1]))
        let memory = DomainMemoryTuning(numaCells: [NUMACell(cpus: CPUSet([0, 1]), memory: .gib(1)), NUMACell(cpus: CPUSet([2, 3]), memory: .gib(1))],
                                        numaTune: NUMATune(mode: .strict, nodeset: CPUSet([0])), hugepages: .size(.mib(2)), locked: true)
        let fresh = DomainModel(name: "db-1", vcpus: 4, maxVcpus: 4, memory: .gib(2), maxMemory: .gib(2), graphics: .vnc,
                                power: .paused, cpu: cpu, memoryTuning: memory, graphicsListen: "0.0.0.0")

        let pinnedBefore = DomainCPU(topology: CPUTopology(sockets: 2, cores: 1, threads: 1),
                                     vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0])), VCPUPin(vcpu: 1, cpuset: CPUSet([1]))])
        let pinnedAfter = DomainCPU(topology: CPUTopology(sockets: 1, cores: 2, threads: 1),
                                    vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([1])), VCPUPin(vcpu: 1, cpuset: CPUSet([0, 1]))],
                                    emulatorPin: CPUSet([1]))
        let moved = DomainModel(name: "app-1", vcpus: 2, maxVcpus: 2, memory: .mib(512), power: .running, cpu: pinnedAfter,
                                memoryTuning: DomainMemoryTuning(hugepages: .defaultSize))
        var movedSeen = Lab.observed(moved, uuid: "u-1", state: .running,
                                     live: LiveDomainValues(memory: .mib(512), maxMemory: .mib(512), vcpus: 2, maxVcpus: 2,
                                                            vcpuPins: pinnedBefore.vcpuPins ?? []))
        movedSeen.model.cpu = pinnedBefore
        movedSeen.model.memoryTuning = DomainMemoryTuning()

        let open = DomainModel(name: "app-2", memory: .mib(512), power: .running)
        var openSeen = Lab.observed(open, uuid: "u-2", state: .running)
        openSeen.model.cpuMode = .custom
        openSeen.model.cpu = DomainCPU(model: CPUModelChoice(name: "qemu64", fallback: .allow))
        openSeen.model.graphicsListen = "127.0.0.1"

        let host = DesiredHost(name: "local", domains: [fresh, moved, open])
        let observed = ObservedHost(name: "local", domains: ["app-1": movedSeen, "app-2": openSeen])
        return PlanCase("cpu-tuning", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()
}
