import CLibvirt
import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML
@testable import VirtsyncLibvirt

/// The escape hatch in libvirt's XML: fragments placed at their paths, read back in canonical
/// form, and drift behind virtsync's back planned (decision record 0012).
@Suite("escape hatch XML")
struct HatchXMLTests {
    static let marker = OwnershipMarker(specDigest: "h4tch")

    @Test("raw XML goes into the containers the model partly owns, next to the owned parts, and the marker records its paths")
    func nestedPlacement() throws {
        let root = try XMLParser.parse(LibvirtXML.domain(Models.hatchDomain, marker: Self.marker, domainType: "kvm"))
        #expect(root.children(named: "os").count == 1 && root.path("os/type")?.text == "hvm")
        #expect(root.path("os/bios")?[attribute: "rebootTimeout"] == "3000")
        #expect(root.children(named: "cpu").count == 1 && root.child("cpu")?[attribute: "mode"] == "host-passthrough")
        #expect(root.path("cpu/cache")?[attribute: "mode"] == "passthrough")
        let devices = try #require(root.child("devices"))
        #expect(root.children(named: "devices").count == 1)
        #expect(devices.child("memballoon")?[attribute: "model"] == "none" && devices.child("panic") != nil)
        #expect(devices.child("disk")?.path("source")?[attribute: "dev"] == "/dev/vg/a&b")
        #expect(root.child("on_crash")?.text == "restart")
        let marker = try #require(LibvirtXML.markerElement(in: root))
        #expect(marker[attribute: "hatch-paths"] == "os/bios cpu/cache clock on_crash devices/memballoon devices/panic devices/disk")
    }

    @Test("a definition read back holds its raw XML: libvirt's additions are not drift, an edit is")
    func readBack() throws {
        let xml = LibvirtXML.domain(Models.hatchDomain, marker: Self.marker, domainType: "kvm")
        // libvirt adds an address to the panic device and fills in a default attribute.
        let withAddress = xml.replacingOccurrences(of: "<panic model='isa'/>",
                                                   with: "<panic model='isa'><address type='isa' iobase='0x505'/></panic>")
            .replacingOccurrences(of: "<clock offset='localtime'/>", with: "<clock offset='localtime' adjustment='reset'/>")
        #expect(withAddress != xml)
        #expect(xmlChanges(Models.hatchDomain, observedXML: withAddress).isEmpty)
        let edited = xml.replacingOccurrences(of: "<on_crash>restart</on_crash>", with: "<on_crash>destroy</on_crash>")
        let changes = xmlChanges(Models.hatchDomain, observedXML: edited)
        #expect(changes.map(\.field) == ["xml.domain/on_crash"])
        #expect(changes.first?.before == "<on_crash>destroy</on_crash>" && changes.first?.disruption == .nextBoot)
    }

    @Test("a marker of an earlier version is read as recorded paths, so its domain converges without a rewrite")
    func legacyMarker() throws {
        let parsed = try LibvirtXML.parseDomain(Samples.qemuDomain)
        #expect(parsed.hatch?.recorded == ["devices/rng"])
        #expect(parsed.hatch?.live.map(\.path) == ["devices/rng"])
        var model = parsed.model
        model.extraXML = ExtraXML(devices: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>")
        #expect(xmlChanges(model, observedXML: Samples.qemuDomain).isEmpty)
    }

    @Test("an update keeps libvirt's additions to matching raw XML and removes what the spec dropped")
    func updateKeepsAndRemoves() throws {
        let xml = LibvirtXML.domain(Models.hatchDomain, marker: Self.marker, domainType: "kvm")
            .replacingOccurrences(of: "<panic model='isa'/>", with: "<panic model='isa'><address type='isa' iobase='0x505'/></panic>")
        var model = Models.hatchDomain
        model.extraXML.domain = "<os><bios rebootTimeout='3000'/></os><on_crash>restart</on_crash>"
        let root = try XMLParser.parse(try LibvirtXML.updatedDomain(current: xml, model: model, marker: Self.marker))
        #expect(root.path("devices/panic/address")?[attribute: "iobase"] == "0x505", "libvirt's address is kept")
        #expect(root.child("clock") == nil && root.path("cpu/cache") == nil && root.path("devices/memballoon") == nil)
        #expect(root.path("os/bios") != nil && root.path("os/type") != nil)
        #expect(root.child("cpu")?[attribute: "mode"] == "host-passthrough", "the owned part of <cpu> stays")
        #expect(LibvirtXML.markerElement(in: root)?[attribute: "hatch-paths"] == "os/bios on_crash devices/panic devices/disk")
    }

    @Test("a network's and a pool's definitions carry their raw XML and read it back whole")
    func networkAndPool() throws {
        let network = try LibvirtXML.parseNetwork(LibvirtXML.network(Models.hatchNetwork))
        #expect(network.hatch?.complete == true)
        #expect(network.hatch?.live.map(\.path) == ["port", "dns/txt", "route"])
        #expect(network.model.ipv4?.address == "10.8.0.1", "the <route> is raw XML, not the model's")
        let pool = try LibvirtXML.parsePool(LibvirtXML.pool(Models.hatchPool))
        #expect(pool.hatch?.live.map(\.path) == ["target/permissions"])
        // The netfs pool's raw <format> replaces the one virtsync writes by default.
        let netfs = try XMLParser.parse(LibvirtXML.pool(Models.hatchNetfsPool))
        #expect(netfs.child("source")?.children(named: "format").map { $0[attribute: "type"] } == ["nfs"])
    }

    /// The `xml.` changes the planner finds between `model` and a definition libvirt reports.
    private func xmlChanges(_ model: DomainModel, observedXML: String) -> [FieldChange] {
        guard let parsed = try? LibvirtXML.parseDomain(observedXML) else { return [FieldChange(field: "unparsable", before: String?.none, after: nil, disruption: .none)] }
        var desired = model
        desired.power = .running
        let observed = ObservedDomain(model: parsed.model, uuid: parsed.uuid, state: .running, marker: parsed.marker, hatch: parsed.hatch)
        let state = DesiredState(hosts: [DesiredHost(name: "h", domains: [desired])], specDigest: "h4tch")
        let plan = Planner.plan(desired: state, observed: ObservedState(hosts: ["h": ObservedHost(name: "h", domains: [model.name: observed])]))
        return plan.steps.flatMap(\.changes).filter { $0.field.hasPrefix("xml.") }
    }
}

/// The escape hatch through libvirt's test driver: apply, the next plan is empty; a definition
/// changed behind virtsync's back is planned and repaired.
@Suite("escape hatch convergence through libvirt")
struct HatchConvergenceTests {
    static func desired() -> DesiredState {
        DesiredState(hosts: [DesiredHost(
            name: Steps.host, uri: Fixture.nodeURI, networks: [Models.hatchNetwork], pools: [Models.hatchPool],
            domains: [Models.hatchDomain])], specDigest: "sp3c")
    }

    @Test("raw XML of a domain, a network and a pool converges; drift in it is planned with its class and repaired")
    func converges() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-hatch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let connector = OneSessionConnector()
        let workflow = ApplyWorkflow(connector: connector, inventory: try InventoryStore(stateDirectory: state.path), defaultURI: Fixture.nodeURI)
        let reconciler = workflow.reader
        let desired = Self.desired()
        let (sessions, failed) = await reconciler.connect(desired)
        let first = try await workflow.apply(desired)
        let report = try #require(first.report)
        #expect(report.ok, "\(report.results.filter { $0.outcome != .succeeded })")
        var (plan, _) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(plan.isEmpty, "\(plan.steps.map { "\($0.id) \($0.changes)" })")

        // Behind virtsync's back: the domain's on_crash and the network's MTU change.
        let session = try #require(try await connector.connect(host: Steps.host, uri: Fixture.nodeURI) as? LibvirtSession)
        try await session.run("edit behind virtsync's back") { call in
            let domain = try call.existingDomain("hatch", "edit")
            let xml = try call.domainXML(domain, inactive: true, "edit").replacingOccurrences(of: "<on_crash>restart</on_crash>", with: "<on_crash>destroy</on_crash>")
            guard virDomainDefineXML(call.conn, xml) != nil else { throw call.error("define edited domain") }
            guard let network = try call.network("hatch") else { throw call.error("no network") }
            let netXML = try call.networkXML(network, "edit").replacingOccurrences(of: "<port isolated='yes'/>", with: "<port isolated='no'/>")
            // The test driver shows only a network's live definition: restart it with the edit.
            guard virNetworkDestroy(network.pointer) == 0, let edited = virNetworkDefineXML(call.conn, netXML),
                  virNetworkCreate(edited) == 0 else { throw call.error("define edited network") }
            virNetworkFree(edited)
        }
        (plan, _) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        let domainStep = try #require(plan.steps.first { $0.resource.kind == .domain })
        #expect(domainStep.changes.map(\.field) == ["xml.domain/on_crash"] && domainStep.disruption == .nextBoot)
        let networkStep = try #require(plan.steps.first { $0.resource.kind == .network })
        #expect(networkStep.changes.map(\.field) == ["xml.network/port"] && networkStep.disruption == .restart)

        let repair = try await workflow.apply(desired)
        #expect(repair.report?.ok == true, "\(repair.report?.results.filter { $0.outcome != .succeeded } ?? [])")
        (plan, _) = await reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(plan.isEmpty, "\(plan.steps.map { "\($0.id) \($0.changes)" })")

        // Raw XML dropped from the spec is removed, then the plan is empty again.
        var dropped = desired
        dropped.hosts[0].networks[0].extraXML = "<dns><txt name='x' value='a&amp;b'/></dns>"
        dropped.hosts[0].domains[0].extraXML.domain = nil
        let removal = try await workflow.apply(dropped)
        #expect(Set(removal.plan.steps.flatMap(\.changes).map(\.field)).isSuperset(of: ["xml.network/port", "xml.network/route", "xml.domain/clock"]))
        (plan, _) = await reconciler.plan(dropped, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(plan.isEmpty, "\(plan.steps.map { "\($0.id) \($0.changes)" })")
        let netXML = try await session.definition(ofNetwork: "hatch")
        #expect(!netXML.contains("<port") && netXML.contains("<txt"))
    }
}
