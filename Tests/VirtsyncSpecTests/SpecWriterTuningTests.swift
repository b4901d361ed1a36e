import Testing
import VirtsyncCore
@testable import VirtsyncSpec

/// `virtsync import` of CPU, NUMA and memory-backing settings, a listen address and a paused
/// domain: written in the spec's words, and read back by the loader into the same model.
@Suite("spec writer: CPU, memory and power")
struct SpecWriterTuningTests {
    static let tuned = DomainModel(
        name: "db-1", vcpus: 4, maxVcpus: 4, memory: .mib(256), maxMemory: .mib(256), cpuMode: .custom, graphics: .vnc,
        cpu: DomainCPU(model: CPUModelChoice(name: "qemu64", fallback: .allow),
                       features: [CPUFeature(name: "svm", policy: .disable), CPUFeature(name: "x2apic", policy: .require)],
                       topology: CPUTopology(sockets: 1, dies: 1, cores: 2, threads: 2),
                       vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0, 1])), VCPUPin(vcpu: 3, cpuset: CPUSet([1]))],
                       emulatorPin: CPUSet([0])),
        memoryTuning: DomainMemoryTuning(numaCells: [NUMACell(cpus: CPUSet([0, 1]), memory: .mib(128)), NUMACell(cpus: CPUSet([2, 3]), memory: .mib(128))],
                                         numaTune: NUMATune(mode: .preferred, nodeset: CPUSet([0])), hugepages: .size(.mib(2)), locked: true),
        graphicsListen: "0.0.0.0")

    @Test("the fields are written and read back into the same model; a paused domain is written as power: paused")
    func roundTrip() throws {
        var imported = ImportedDomain(model: Self.tuned, running: true, adopt: false)
        imported.paused = true
        let files = SpecWriter.files(ImportSet(domains: [imported]))
        let text = try #require(files.first { $0.path.hasSuffix("db-1.yaml") }?.text, "\(files.map(\.path))")
        for line in ["power: paused", "cpu:\n  mode: custom\n  model: {name: qemu64, fallback: allow}",
                     "    require: [x2apic]", "    disable: [svm]", "  topology: {sockets: 1, dies: 1, cores: 2, threads: 2}",
                     "    vcpus: {0: \"0-1\", 3: \"1\"}", "    emulator: \"0\"", "    - {cpus: \"0-1\", memory: 128MiB}",
                     "  tune: {mode: preferred, nodeset: \"0\"}", "memoryBacking:\n  hugepages: 2MiB\n  locked: true",
                     "graphics: {type: vnc, listen: \"0.0.0.0\"}"] {
            #expect(text.contains(line), "\(line) is not in:\n\(text)")
        }
        let result = SpecLoader.load(files: files.map { SpecFile(path: $0.path, bytes: Array($0.text.utf8)) })
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)\n\(text)")
        let read = try #require(result.desired?.hosts.first?.domains.first)
        #expect(read.cpu == Self.tuned.cpu)
        #expect(read.cpuMode == .custom)
        #expect(read.memoryTuning == Self.tuned.memoryTuning)
        #expect(read.graphicsListen == "0.0.0.0")
        #expect(read.power == .paused)
    }

    @Test("a domain without them is written as before: the short cpu form, the scalar graphics form, no new keys")
    func plain() throws {
        var plain = DomainModel(name: "plain", memory: .mib(64), cpuMode: .hostModel, graphics: .vnc)
        plain.graphicsListen = "127.0.0.1"
        let text = try #require(SpecWriter.files(ImportSet(domains: [ImportedDomain(model: plain, running: false, adopt: false)])).first?.text)
        #expect(text.contains("cpu: host-model\n"))
        #expect(text.contains("graphics: vnc\n"))
        #expect(text.contains("power: stopped\n"))
        #expect(!text.contains("numa:") && !text.contains("memoryBacking:"))
    }
}
