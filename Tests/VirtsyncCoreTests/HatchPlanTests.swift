import Testing
import VirtsyncCore

/// The escape hatch's raw XML in plans: compared with what libvirt holds in canonical form, as a
/// subset, path by path (decision record 0012).
@Suite("escape hatch plans")
struct HatchPlanTests {
    private static let rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"

    private func desired(_ extra: ExtraXML, network: String? = nil, pool: String? = nil) -> DesiredState {
        var state = labDesired(web2: false)
        state.hosts[0].domains[0].extraXML = extra
        state.hosts[0].networks[0].extraXML = network
        state.hosts[0].pools[0].extraXML = pool
        return state
    }

    private func changes(_ desired: DesiredState, _ observed: ObservedState) -> [FieldChange] {
        Planner.plan(desired: desired, observed: observed).steps.flatMap(\.changes)
    }

    @Test("a converged state plans nothing, raw XML included")
    func convergedIsEmpty() {
        let d = desired(ExtraXML(devices: Self.rng, domain: "<os><bios rebootTimeout='0'/></os><clock offset='utc'/>"),
                        network: "<port isolated='yes'/>", pool: "<target><permissions><mode>0755</mode></permissions></target>")
        #expect(Planner.plan(desired: d, observed: .assuming(d)).steps.isEmpty)
    }

    @Test("what libvirt adds, attribute order, quoting and empty elements are not drift")
    func libvirtAdditionsAreNotDrift() {
        let d = desired(ExtraXML(devices: Self.rng))
        var observed = ObservedState.assuming(d)
        let live = HatchNode(name: "rng", attributes: ["model": "virtio"], children: [
            HatchNode(name: "backend", attributes: ["model": "random"], text: "/dev/urandom"),
            HatchNode(name: "address", attributes: ["type": "pci", "bus": "0x00", "slot": "0x07"]),
        ])
        observed.hosts["local"]?.domains["web-1"]?.hatch = ObservedHatch(recorded: ["devices/rng"], live: [HatchLeaf(path: "devices/rng", node: live)])
        #expect(changes(d, observed).isEmpty)
        #expect(Hatch.leaves("<rng model=\"virtio\">\n  <backend model='random'>/dev/urandom</backend>\n</rng>", under: "devices", in: .domain)
                == Hatch.leaves(Self.rng, under: "devices", in: .domain))
        #expect(Hatch.leaves("<pmu state='off'></pmu>", in: .domain) == Hatch.leaves("<pmu state='off'/>", in: .domain))
    }

    @Test("a raw element changed or removed behind virtsync's back is next-boot drift on a running VM, named by its path")
    func driftIsPlanned() throws {
        let d = desired(ExtraXML(domain: "<clock offset='localtime'/><on_crash>restart</on_crash>"))
        var observed = ObservedState.assuming(d)
        observed.hosts["local"]?.domains["web-1"]?.hatch = ObservedHatch(
            recorded: ["clock", "on_crash"], live: [HatchLeaf(path: "clock", node: HatchNode(name: "clock", attributes: ["offset": "utc"]))])
        let plan = Planner.plan(desired: d, observed: observed)
        let step = try #require(plan.steps.first { $0.resource.name == "web-1" && $0.action == .update })
        #expect(step.changes.map(\.field) == ["xml.domain/clock", "xml.domain/on_crash"])
        #expect(step.changes[0].before == "<clock offset='utc'/>" && step.changes[0].after == "<clock offset='localtime'/>")
        #expect(step.changes[1].before == nil && step.changes[1].after == "<on_crash>restart</on_crash>")
        #expect(step.changes.allSatisfy { $0.disruption == .nextBoot })
    }

    @Test("raw XML the spec drops is removed only where virtsync recorded writing it")
    func removalOnlyWhereRecorded() {
        let d = desired(ExtraXML())
        var observed = ObservedState.assuming(d)
        let clock = HatchLeaf(path: "clock", node: HatchNode(name: "clock", attributes: ["offset": "localtime"]))
        observed.hosts["local"]?.domains["web-1"]?.hatch = ObservedHatch(recorded: ["clock"], live: [clock])
        #expect(changes(d, observed).map(\.field) == ["xml.domain/clock"])
        #expect(changes(d, observed).first?.after == nil)
        observed.hosts["local"]?.domains["web-1"]?.hatch = ObservedHatch(recorded: [], live: [clock])
        #expect(changes(d, observed).isEmpty, "an element virtsync never wrote is libvirt's or someone else's")
    }

    @Test("a network's raw XML change restarts an active network and is plain for an inactive one")
    func networkDisruption() throws {
        let d = desired(ExtraXML(), network: "<port isolated='yes'/><dns><txt name='x' value='y'/></dns>")
        var observed = ObservedState.assuming(d)
        observed.hosts["local"]?.networks["labnet"]?.hatch = ObservedHatch(
            recorded: ["port", "dns"],
            live: [HatchLeaf(path: "port", node: HatchNode(name: "port", attributes: ["isolated": "no"])),
                   HatchLeaf(path: "mac", node: HatchNode(name: "mac", attributes: ["address": "52:54:00:01:02:03"]))], complete: true)
        let step = try #require(Planner.plan(desired: d, observed: observed).steps.first { $0.resource.kind == .network })
        #expect(step.action == .update && step.disruption == .restart)
        #expect(step.changes.map(\.field) == ["xml.network/port", "xml.network/dns/txt"])
        observed.hosts["local"]?.networks["labnet"]?.active = false
        let inactive = Planner.plan(desired: d, observed: observed).steps.filter { $0.resource.kind == .network }
        #expect(inactive.first?.disruption == Disruption.none)
    }

    @Test("a pool's raw XML is compared with every unowned element of its definition, recorded or not")
    func poolComparedWhole() {
        let d = desired(ExtraXML(), pool: "<target><permissions><mode>0755</mode></permissions></target>")
        var observed = ObservedState.assuming(d)
        let libvirts = HatchNode(name: "permissions", children: [HatchNode(name: "mode", text: "0755"), HatchNode(name: "owner", text: "0")])
        observed.hosts["local"]?.pools["lab"]?.hatch = ObservedHatch(recorded: [], live: [HatchLeaf(path: "target/permissions", node: libvirts)], complete: true)
        #expect(changes(d, observed).isEmpty)
        observed.hosts["local"]?.pools["lab"]?.hatch?.live[0].node.children[0].text = "0700"
        #expect(changes(d, observed).map(\.field) == ["xml.pool/target/permissions"])
    }

    @Test("a new domain lists its raw XML per path")
    func creationFields() throws {
        let d = desired(ExtraXML(devices: Self.rng, domain: "<os><bios rebootTimeout='0'/></os>"))
        let plan = Planner.plan(desired: d, observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
        let create = try #require(plan.steps.first { $0.resource.name == "web-1" && $0.action == .create })
        #expect(create.changes.filter { $0.field.hasPrefix("xml.") }.map(\.field) == ["xml.domain/os/bios", "xml.domain/devices/rng"])
    }
}

extension HatchPlanTests {
    @Test("a recorded path that is a container now is not taken as raw XML: libvirt's elements below it are never removed")
    func recordedContainerIgnored() {
        let d = desired(ExtraXML())
        var observed = ObservedState.assuming(d)
        let boot = HatchLeaf(path: "os/boot", node: HatchNode(name: "boot", attributes: ["dev": "hd"]))
        observed.hosts["local"]?.domains["web-1"]?.hatch = ObservedHatch(recorded: ["os"], live: [boot])
        #expect(changes(d, observed).isEmpty)
    }
}
