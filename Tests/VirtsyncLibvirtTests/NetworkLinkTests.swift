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
}
