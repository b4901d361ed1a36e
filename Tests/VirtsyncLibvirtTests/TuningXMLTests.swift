import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// `<cpu>` (model, features, topology, NUMA cells), `<cputune>`, `<numatune>`,
/// `<memoryBacking>` and the graphics listen address: built, parsed back, merged.
@Suite("CPU, NUMA, memory backing and listen XML")
struct TuningXMLTests {
    static let cpu = DomainCPU(model: CPUModelChoice(name: "qemu64", fallback: .forbid),
                               features: [CPUFeature(name: "svm", policy: .disable), CPUFeature(name: "x2apic", policy: .require)],
                               topology: CPUTopology(sockets: 1, dies: 1, cores: 2, threads: 1),
                               vcpuPins: [VCPUPin(vcpu: 0, cpuset: CPUSet([0])), VCPUPin(vcpu: 1, cpuset: CPUSet([1]))],
                               emulatorPin: CPUSet([0, 1]))
    static let tuning = DomainMemoryTuning(numaCells: [NUMACell(cpus: CPUSet([0]), memory: .mib(64)), NUMACell(cpus: CPUSet([1]), memory: .mib(64))],
                                           numaTune: NUMATune(mode: .strict, nodeset: CPUSet([0])), hugepages: .size(.mib(2)), locked: true)
    static let tuned = DomainModel(name: "vsc-tuned", vcpus: 2, maxVcpus: 2, memory: .mib(128), maxMemory: .mib(128),
                                   graphics: .vnc, serialConsole: false, cpu: cpu, memoryTuning: tuning, graphicsListen: "0.0.0.0")

    @Test("a tuned domain renders to its golden XML")
    func golden() {
        Fixture.expectGolden("domain-tuned", LibvirtXML.domain(Self.tuned, marker: GoldenXMLTests.marker, domainType: "kvm"))
        var paged = Self.tuned
        paged.memoryTuning = DomainMemoryTuning(hugepages: .defaultSize)
        paged.cpu = DomainCPU(topology: CPUTopology(sockets: 2, cores: 1, threads: 1))
        paged.cpuMode = .hostPassthrough
        paged.graphicsListen = "::"
        Fixture.expectGolden("domain-tuned-short", LibvirtXML.domain(paged, marker: GoldenXMLTests.marker, domainType: "kvm"))
    }

    @Test("what is built parses back into the same fields; mode custom is implied by the model")
    func roundTrip() throws {
        let parsed = try LibvirtXML.parseDomain(LibvirtXML.domain(Self.tuned, marker: GoldenXMLTests.marker, domainType: "kvm")).model
        #expect(parsed.cpu == Self.cpu)
        #expect(parsed.memoryTuning == Self.tuning)
        #expect(parsed.graphicsListen == "0.0.0.0")
        #expect(parsed.cpuMode == .custom)
        let plain = try LibvirtXML.parseDomain(LibvirtXML.domain(Models.minimalDomain, marker: GoldenXMLTests.marker, domainType: "kvm")).model
        #expect(plain.cpu.isEmpty && plain.memoryTuning.isEmpty, "absent elements read as nil")
    }

    static let libvirtEcho = """
    <domain type='kvm'>
      <name>vsc-tuned</name>
      <metadata><virtsync:managed xmlns:virtsync="https://virtsync.dev/xmlns/domain/1" spec-digest="old" extra-digest=""/></metadata>
      <memory unit='KiB'>131072</memory>
      <currentMemory unit='KiB'>131072</currentMemory>
      <memoryBacking><nosharepages/><hugepages/></memoryBacking>
      <vcpu placement='static'>2</vcpu>
      <cputune><shares>2048</shares><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='0'/><emulatorpin cpuset='1'/></cputune>
      <numatune><memory mode='preferred' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune>
      <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
      <cpu mode='custom' match='exact' check='partial'>
        <model fallback='allow'>kvm64</model>
        <topology sockets='2' dies='1' cores='1' threads='1'/>
        <cache mode='passthrough'/>
        <feature policy='require' name='vmx'/>
        <numa><cell id='0' cpus='0-1' memory='131072' unit='KiB'/></numa>
      </cpu>
      <devices>
        <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' keymap='de'>
          <listen type='address' address='127.0.0.1'/>
        </graphics>
      </devices>
    </domain>
    """

    @Test("an update writes the owned parts and keeps libvirt's: match, check, cache, shares, memnode, nosharepages, keymap")
    func merge() throws {
        let merged = try LibvirtXML.updatedDomain(current: Self.libvirtEcho, model: Self.tuned, marker: GoldenXMLTests.marker)
        Fixture.expectGolden("domain-tuned-merge", merged)
        let parsed = try LibvirtXML.parseDomain(merged).model
        #expect(parsed.cpu == Self.cpu)
        #expect(parsed.memoryTuning == Self.tuning)
        #expect(parsed.graphicsListen == "0.0.0.0")
        for kept in ["match='exact'", "check='partial'", "<cache mode='passthrough'/>", "<shares>2048</shares>", "<memnode", "<nosharepages/>", "keymap='de'"] {
            #expect(merged.contains(kept), "\(kept) is kept")
        }
    }

    @Test("an update whose spec leaves the fields open keeps the existing elements as they are")
    func mergeOpen() throws {
        var open = Self.tuned
        open.cpu = DomainCPU()
        open.memoryTuning = DomainMemoryTuning()
        open.graphicsListen = nil
        let merged = try LibvirtXML.parseDomain(LibvirtXML.updatedDomain(current: Self.libvirtEcho, model: open, marker: GoldenXMLTests.marker)).model
        let before = try LibvirtXML.parseDomain(Self.libvirtEcho).model
        #expect(merged.cpu == before.cpu)
        #expect(merged.memoryTuning == before.memoryTuning)
        #expect(merged.graphicsListen == "127.0.0.1")
        #expect(before.memoryTuning.hugepages == .defaultSize)
        #expect(before.cpu.vcpuPins?.map(\.cpuset.description) == ["1", "0"])
    }

    @Test("libvirt's CPU bitmap sets one bit per host CPU, bytes as long as the highest CPU needs")
    func cpuMap() {
        #expect(LibvirtSession.cpuMap(CPUSet([0])) == [0b1])
        #expect(LibvirtSession.cpuMap(CPUSet([1, 3])) == [0b1010])
        #expect(LibvirtSession.cpuMap(CPUSet([0, 9])) == [0b1, 0b10])
    }

    @Test("cpusets parse libvirt's syntax into canonical form and refuse malformed ones")
    func cpusets() {
        #expect(CPUSet(parsing: "0-3,^2, 6")?.description == "0-1,3,6")
        #expect(CPUSet(parsing: "1,0")?.description == "0-1")
        for bad in ["", "3-1", "a", "0-", "^1", "1,,2", "4096"] { #expect(CPUSet(parsing: bad) == nil, "\(bad)") }
    }
}

/// The same fields, and `power: paused`, through the test driver: apply, read back, the next
/// plan is empty.
@Suite("CPU tuning and paused power through the test driver")
struct TuningConvergenceTests {
    static func desired(_ domains: [DomainModel]) -> DesiredState {
        DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, domains: domains)], specDigest: "sp3c")
    }

    @Test("a tuned, paused VM converges; pins change live; running resumes it; each second plan is empty")
    func converges() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-tuning-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: try InventoryStore(stateDirectory: state.path),
                                     defaultURI: Fixture.nodeURI)
        var vm = TuningXMLTests.tuned
        vm.power = .paused
        var desired = Self.desired([vm])
        let first = try await workflow.apply(desired)
        #expect(first.plan.steps.map(\.action) == [.create, .start, .suspend])
        let report = try #require(first.report)
        #expect(report.ok, "\(report.results.filter { $0.outcome != .succeeded })")
        let (sessions, failed) = await workflow.reader.connect(desired)
        let (second, observed) = await workflow.reader.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        let seen = try #require(observed.hosts[Steps.host]?.domains[vm.name])
        #expect(seen.state == .paused)
        #expect(seen.model.cpu == vm.cpu)
        #expect(seen.model.memoryTuning == vm.memoryTuning)

        vm.power = .running
        vm.cpu.vcpuPins = [VCPUPin(vcpu: 0, cpuset: CPUSet([1])), VCPUPin(vcpu: 1, cpuset: CPUSet([1]))]
        desired = Self.desired([vm])
        let third = try await workflow.apply(desired)
        #expect(third.plan.steps.map(\.action) == [.update, .resume])
        #expect(third.plan.steps.first?.disruption == .live)
        let update = try #require(third.report)
        #expect(update.ok, "\(update.results.filter { $0.outcome != .succeeded })")
        let (fourth, after) = await workflow.reader.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(fourth.isEmpty, "\(fourth.steps.map { "\($0.id) \($0.changes)" })")
        #expect(after.hosts[Steps.host]?.domains[vm.name]?.state == .running)
        #expect(after.hosts[Steps.host]?.domains[vm.name]?.live?.vcpuPins == vm.cpu.vcpuPins)

        _ = try await workflow.apply(Self.desired([]), options: PlanOptions(prune: true))
    }
}
