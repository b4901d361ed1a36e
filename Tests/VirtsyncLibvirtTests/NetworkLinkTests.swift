import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt
import VirtsyncXML

/// MTU, uplink, shaping and port groups of a network through libvirt's test driver: a second
/// plan is empty, a port group is changed in place (same network, no restart), what the spec
/// leaves out is kept on a redefinition, and a VM interface names its port group.
@Suite("network MTU, uplink, bandwidth and port groups through libvirt")
struct NetworkLinkTests {
    private func plan(_ model: NetworkModel, _ session: LibvirtSession) async throws -> Plan {
        var host = try await session.observe(host: Steps.host)
        for name in host.networks.keys { host.networks[name]?.managed = true }
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: Steps.host, networks: [model])], specDigest: "d"),
                            observed: ObservedState(hosts: [Steps.host: host]))
    }

    @Test("<forward dev> with libvirt's <interface> echo is the uplink; open is its own mode; <mtu>, <bandwidth> and <portgroup> are read")
    func parses() throws {
        let parsed = try LibvirtXML.parseNetwork("""
            <network><name>n</name><forward dev='eth0' mode='nat'><interface dev='eth0'/></forward><mtu size='9000'/>
            <bandwidth><inbound average='1000' peak='2000' burst='512'/></bandwidth><ip address='10.0.0.1' prefix='24'/>
            <portgroup name='b'/><portgroup name='a' default='yes'><vlan><tag id='42'/></vlan></portgroup></network>
            """).model
        #expect(parsed.uplink == "eth0" && parsed.mtu == 9000 && parsed.bandwidth?.inbound?.peak == .kib(2000))
        #expect(parsed.portgroups == [NetworkPortgroup(name: "a", isDefault: true, vlan: InterfaceVLAN(tags: [42])), NetworkPortgroup(name: "b")])
        #expect(try LibvirtXML.parseNetwork("<network><name>n</name><forward mode='open'/></network>").model.mode == .open)
        #expect(try LibvirtXML.uncovered(networkXML: "<network><name>n</name><forward dev='eth0' mode='nat'><interface dev='eth0'/></forward><mtu size='9000'/><portgroup name='a'/></network>").isEmpty)
    }

    @Test("a network with an MTU, an uplink, shaping and port groups converges; a port group change is made in place, then the plan is empty")
    func portgroupInPlace() async throws {
        let session = try await Fixture.session()
        let model = Models.linkNetwork
        try await session.apply(Steps.network(.create, model))
        #expect(try await plan(model, session).steps.isEmpty)
        let before = try #require(try await session.observe(host: Steps.host).networks[model.name])
        var wanted = model
        wanted.portgroups = [NetworkPortgroup(name: "web", bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(200)))),
                             NetworkPortgroup(name: "backup", isDefault: true)]
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["portgroups[backup]", "portgroups[db]", "portgroups[web]"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.uuid == before.uuid && after.active)
        #expect(after.model.portgroups == wanted.portgroups?.sorted { $0.name < $1.name })
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }

    @Test("a new MTU restarts the network (replace); shaping, uplink and port groups the spec leaves out are kept")
    func leftOutKept() async throws {
        let session = try await Fixture.session()
        let model = Models.linkNetwork
        try await session.apply(Steps.network(.create, model))
        let wanted = NetworkModel(name: model.name, mode: .nat, ipv4: model.ipv4, mtu: 1500)
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .replace && step.changes.map(\.field) == ["mtu"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.model.mtu == 1500 && after.model.uplink == "eth0")
        #expect(after.model.bandwidth == model.bandwidth && after.model.portgroups == model.portgroups)
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }

    @Test("a VM interface's port group is <source portgroup> and reads back")
    func interfacePortgroup() throws {
        let nic = InterfaceModel(source: .network("link"), mac: "52:54:00:00:00:31", options: InterfaceOptions(portgroup: "web"))
        let element = LibvirtXML.interfaceElement(nic)
        #expect(element.child("source")?[attribute: "portgroup"] == "web")
        #expect(LibvirtXML.parseInterface(element)?.options?.portgroup == "web")
        let bridged = InterfaceModel(source: .bridge("br0"), options: InterfaceOptions(portgroup: "web"))
        #expect(LibvirtXML.interfaceElement(bridged).child("source")?[attribute: "portgroup"] == nil, "only a network has port groups")
    }

    @Test("an update keeps the port group of an interface whose spec leaves it open, on the same network only")
    func mergeKeepsPortgroup() throws {
        let current = """
            <domain type='kvm'><name>n</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
            <interface type='network'><mac address='52:54:00:aa:00:09'/><source network='link' portgroup='web'/><model type='virtio'/></interface>
            </devices></domain>
            """
        func merged(_ nic: InterfaceModel) throws -> String? {
            let model = DomainModel(name: "n", memory: .mib(64), interfaces: [nic], serialConsole: false)
            let root = try XMLParser.parse(try LibvirtXML.updatedDomain(current: current, model: model, marker: OwnershipMarker(specDigest: "m")))
            return root.child("devices")?.child("interface")?.child("source")?[attribute: "portgroup"]
        }
        #expect(try merged(InterfaceModel(source: .network("link"), mac: "52:54:00:aa:00:09")) == "web")
        #expect(try merged(InterfaceModel(source: .network("link"), mac: "52:54:00:aa:00:09", options: InterfaceOptions(portgroup: "db"))) == "db")
        #expect(try merged(InterfaceModel(source: .network("other"), mac: "52:54:00:aa:00:09")) == nil, "another network has other groups")
    }

    @Test("on the test driver a VM interface's port group converges: a second plan is empty, a new group is planned")
    func interfacePortgroupConverges() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-libvirt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: try InventoryStore(stateDirectory: state.path),
                                     defaultURI: Fixture.nodeURI)
        let vm = DomainModel(name: "grouped", memory: .mib(64), interfaces: [
            InterfaceModel(source: .network(Models.linkNetwork.name), mac: "52:54:00:aa:00:21", options: InterfaceOptions(portgroup: "web")),
        ], power: .stopped)
        let desired = DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, networks: [Models.linkNetwork], domains: [vm])],
                                   specDigest: "pg1")
        let first = try await workflow.apply(desired)
        #expect(first.report?.ok == true, "\(String(describing: first.report))")
        let (sessions, failed) = await workflow.reader.connect(desired)
        let (second, _) = await workflow.reader.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        var changed = desired
        changed.hosts[0].domains[0].interfaces[0].options?.portgroup = "db"
        let (third, _) = await workflow.reader.plan(changed, sessions: sessions, failed: failed, options: PlanOptions())
        #expect(third.steps.map(\.id) == ["update:domain:local/grouped"], "\(third.steps)")
        #expect(third.steps.first?.changes.map(\.field) == ["interfaces[0]"])
        #expect(third.steps.first?.changes.first?.after?.contains("portgroup=db") == true)
    }
}
