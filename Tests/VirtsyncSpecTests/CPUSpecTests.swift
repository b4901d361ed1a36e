import Testing
import VirtsyncCore
import VirtsyncSpec

/// `cpu` (mapping form), `numa`, `memoryBacking`, `graphics.listen` and `power: paused` of a
/// VirtualMachine, and `hugepageSizes` of a Host.
@Suite("CPU and memory fields")
struct CPUSpecTests {
    /// A VM document with `extra` appended (from line 5 on).
    private func load(_ extra: String, vm: String = "vm", host: String? = nil) -> SpecLoadResult {
        var files: [SpecFile] = []
        if let host { files.append(SpecFile(path: "host.yaml", bytes: Array(host.utf8))) }
        let text = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: \(vm)\nmemory: 64MiB\n" + extra
        files.append(SpecFile(path: "vm.yaml", bytes: Array(text.utf8)))
        return SpecLoader.load(files: files)
    }

    private func domain(_ extra: String) throws -> DomainModel {
        let result = load(extra)
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        let desired = try #require(result.desired, "\(result.diagnostics)")
        return try #require(desired.hosts.first?.domains.first)
    }

    private func errors(_ extra: String, host: String? = nil) -> String {
        let result = load(extra, host: host)
        #expect(result.desired == nil)
        return result.diagnostics.description
    }

    @Test("the mapping form reads into the model: model, features, topology, pins in canonical form")
    func cpuMapping() throws {
        let vm = try domain("""
        vcpus: 4
        cpu:
          model: {name: qemu64, fallback: forbid}
          features: {require: [x2apic, pdpe1gb], disable: [svm]}
          topology: {sockets: 1, cores: 2, threads: 2}
          pinning:
            vcpus: {1: "1,0", 0: "0-1,^1"}
            emulator: "1"

        """)
        #expect(vm.cpuMode == nil)
        #expect(vm.cpu.model == CPUModelChoice(name: "qemu64", fallback: .forbid))
        #expect(vm.cpu.features == [CPUFeature(name: "pdpe1gb", policy: .require), CPUFeature(name: "svm", policy: .disable),
                                    CPUFeature(name: "x2apic", policy: .require)])
        #expect(vm.cpu.topology == CPUTopology(sockets: 1, dies: 1, cores: 2, threads: 2))
        #expect(vm.cpu.vcpuPins == [VCPUPin(vcpu: 0, cpuset: CPUSet([0])), VCPUPin(vcpu: 1, cpuset: CPUSet([0, 1]))])
        #expect(vm.cpu.vcpuPins?.map(\.cpuset.description) == ["0", "0-1"])
        #expect(vm.cpu.emulatorPin == CPUSet([1]))
        #expect(vm.maxVcpus == 4, "the topology fixes the maximum vCPUs")
    }

    @Test("the short form stays what it was, and a spec without the new fields leaves them open")
    func shortForm() throws {
        let vm = try domain("cpu: host-passthrough\n")
        #expect(vm.cpuMode == .hostPassthrough)
        #expect(vm.cpu.isEmpty)
        #expect(vm.memoryTuning.isEmpty)
        #expect(vm.graphicsListen == nil)
        #expect(vm.maxVcpus == nil)
    }

    @Test("NUMA cells, numatune and memory backing read into the model; the cells fix the maximum memory")
    func memoryFields() throws {
        let vm = try domain("""
        vcpus: 2
        numa:
          cells: [{cpus: "0", memory: 32MiB}, {cpus: "1", memory: 32MiB}]
          tune: {mode: interleave, nodeset: "0"}
        memoryBacking: {hugepages: 2MiB, locked: true}

        """)
        #expect(vm.memoryTuning.numaCells == [NUMACell(cpus: CPUSet([0]), memory: .mib(32)), NUMACell(cpus: CPUSet([1]), memory: .mib(32))])
        #expect(vm.memoryTuning.numaTune == NUMATune(mode: .interleave, nodeset: CPUSet([0])))
        #expect(vm.memoryTuning.hugepages == .size(.mib(2)))
        #expect(vm.memoryTuning.locked == true)
        #expect(vm.maxMemory == .mib(64))
        #expect(try domain("memoryBacking: {hugepages: true}\n").memoryTuning.hugepages == .defaultSize)
        #expect(try domain("memoryBacking: {hugepages: false, locked: false}\n").memoryTuning == DomainMemoryTuning(hugepages: .off, locked: false))
    }

    @Test("graphics.listen takes IPv4 and IPv6 addresses; power takes paused")
    func listenAndPaused() throws {
        #expect(try domain("graphics: {type: vnc, listen: 0.0.0.0}\n").graphicsListen == "0.0.0.0")
        #expect(try domain("graphics: {type: spice, listen: \"::\"}\n").graphicsListen == "::")
        #expect(try domain("graphics: {type: vnc, listen: \"fe80::1:2\"}\n").graphicsListen == "fe80::1:2")
        #expect(try domain("power: paused\n").power == .paused)
    }

    @Test("a topology that does not multiply to the maximum vCPUs is an error at the topology", arguments: [
        ("vcpus: 4\ncpu:\n  topology: {sockets: 1, cores: 2, threads: 1}\n",
         "vm.yaml:7:13: error: VirtualMachine[vm].cpu.topology: sockets × dies × cores × threads = 2, but vcpus is 4; "
            + "libvirt requires the topology to multiply to the maximum vCPU count"),
        ("vcpus: 2\nmaxVcpus: 8\ncpu:\n  topology: {sockets: 2, dies: 1, cores: 1, threads: 1}\n",
         "vm.yaml:8:13: error: VirtualMachine[vm].cpu.topology: sockets × dies × cores × threads = 2, but maxVcpus is 8; "
            + "libvirt requires the topology to multiply to the maximum vCPU count"),
    ])
    func badTopology(_ extra: String, _ expected: String) {
        #expect(errors(extra) == expected)
    }

    @Test("NUMA cells whose memory does not add up to the maximum memory are an error at the cells")
    func badNUMASum() {
        #expect(errors("vcpus: 2\nnuma:\n  cells: [{cpus: \"0\", memory: 32MiB}, {cpus: \"1\", memory: 16MiB}]\n")
            == "vm.yaml:7:10: error: VirtualMachine[vm].numa.cells: the cells hold 48MiB in all, but memory is 64MiB; "
            + "libvirt requires the cells to add up to the VM's maximum memory")
        #expect(errors("maxMemory: 128MiB\nnuma:\n  cells: [{cpus: \"0\", memory: 64MiB}]\n")
            .contains("the cells hold 64MiB in all, but maxMemory is 128MiB"))
    }

    @Test("a hugepage size the VM's host does not declare is an error; a host that declares nothing is not checked")
    func hugepageSizes() {
        let host = "apiVersion: virtsync/v1\nkind: Host\nname: h\nhugepageSizes: [2MiB]\n"
        #expect(errors("memoryBacking: {hugepages: 1GiB}\n", host: host)
            == "vm.yaml:5:28: error: VirtualMachine[vm].memoryBacking.hugepages: host h does not offer 1GiB huge pages (its hugepageSizes: 2MiB)")
        #expect(load("memoryBacking: {hugepages: 2MiB}\n", host: host).diagnostics.items.isEmpty)
        #expect(load("memoryBacking: {hugepages: 1GiB}\n", host: "apiVersion: virtsync/v1\nkind: Host\nname: h\n").diagnostics.items.isEmpty)
        #expect(errors("memoryBacking: {hugepages: 3MiB}\n")
            == "vm.yaml:5:28: error: VirtualMachine[vm].memoryBacking.hugepages: a huge page size is a power of two of at least 4KiB, such as 2MiB or 1GiB")
    }

    @Test("other mistakes are errors with file:line naming the field", arguments: [
        ("cpu: custom\n", "vm.yaml:5:6: error: VirtualMachine[vm].cpu: invalid value 'custom'; expected one of host-passthrough, host-model, maximum"),
        ("cpu: {mode: host-passthrough, model: qemu64}\n",
         "vm.yaml:5:31: error: VirtualMachine[vm].cpu.model: a CPU model goes with mode custom (the default when a model is given), not host-passthrough"),
        ("cpu: {mode: host-model, features: {require: [vmx], disable: [vmx]}}\n",
         "vm.yaml:5:62: error: VirtualMachine[vm].cpu.features.disable: CPU feature vmx is also listed at vm.yaml:5:46"),
        ("cpu: {pinning: {vcpus: {1: \"0\"}}}\n",
         "vm.yaml:5:25: error: VirtualMachine[vm].cpu.pinning.vcpus.1: vCPU 1 does not exist: the VM has 1 (numbered from 0)"),
        ("cpu: {pinning: {emulator: \"3-1\"}}\n",
         "vm.yaml:5:27: error: VirtualMachine[vm].cpu.pinning.emulator: expected host CPUs as a list such as \"0-3\", \"1,3\" or \"0-7,^4\" (numbers 0-4095)"),
        ("cpu: {mode: custom}\n", "vm.yaml:5:13: error: VirtualMachine[vm].cpu.mode: mode custom needs a model (cpu.model), e.g. qemu64"),
        ("cpu: {features: {disable: [svm]}}\n",
         "vm.yaml:5:7: error: VirtualMachine[vm].cpu.features: feature flags need a CPU model (cpu.model) or a host mode (host-model, host-passthrough, maximum)"),
        ("cpu: {topology: {sockets: 1, cores: 1, threads: 1, cpus: 1}}\n",
         "vm.yaml:5:52: error: VirtualMachine[vm].cpu.topology.cpus: unknown key 'cpus'; allowed keys: sockets, dies, cores, threads"),
        ("numa: {cells: [{cpus: \"0-1\", memory: 64MiB}]}\n",
         "vm.yaml:5:23: error: VirtualMachine[vm].numa.cells[0].cpus: vCPU 1 does not exist: the VM has 1 (numbered from 0)"),
        ("graphics: {type: vnc, listen: example.org}\n",
         "vm.yaml:5:31: error: VirtualMachine[vm].graphics.listen: 'example.org' is not an IP address; use e.g. 127.0.0.1 (the default), 0.0.0.0 or ::"),
        ("graphics: {type: none, listen: 0.0.0.0}\n",
         "vm.yaml:5:32: error: VirtualMachine[vm].graphics.listen: a listen address needs a display: type vnc or spice"),
        ("ha: true\npower: paused\n",
         "vm.yaml:6:8: error: VirtualMachine[vm].power: an HA VM cannot be paused: HA keeps it running on the host that owns it; "
            + "use power: running or stopped, or drop 'ha'"),
    ])
    func mistakes(_ extra: String, _ expected: String) {
        #expect(errors(extra) == expected)
    }
}
