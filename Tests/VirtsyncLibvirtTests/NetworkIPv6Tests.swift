import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// IPv6 of a network through libvirt's test driver: libvirt's spellings read back as the model,
/// a second plan is empty, a DHCPv6 host is added in place, and IPv6 the spec leaves out is kept.
@Suite("network IPv6 through libvirt")
struct NetworkIPv6Tests {
    private func plan(_ model: NetworkModel, _ session: LibvirtSession) async throws -> Plan {
        var host = try await session.observe(host: Steps.host)
        for name in host.networks.keys { host.networks[name]?.managed = true }
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: Steps.host, networks: [model])], specDigest: "d"),
                            observed: ObservedState(hosts: [Steps.host: host]))
    }

    @Test("an IPv6 <ip> in libvirt's other spellings (upper case, zeros written out, no prefix) parses to the model")
    func spellings() throws {
        let parsed = try LibvirtXML.parseNetwork("""
            <network><name>n</name>
              <ip family='ipv6' address='FD00:10:1:0:0:0:0:1'>
                <dhcp>
                  <range start='fd00:10:1::1FF:0' end='fd00:10:1:0:0:0:1ff:ffff'/>
                  <host name='db-1' ip='fd00:10:1:0::11'/>
                  <host id='0:3:0:1:52:54:0:10:0:1' ip='fd00:10:1::10'/>
                </dhcp>
              </ip>
              <ip address='10.1.0.1' netmask='255.255.255.0'/>
            </network>
            """)
        #expect(parsed.model.ipv6 == IPv6Config(address: "fd00:10:1::1", prefix: 64,
                                                dhcpRanges: [DHCPRange(start: "fd00:10:1::1ff:0", end: "fd00:10:1::1ff:ffff")],
                                                hosts: [DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:1", ip: "fd00:10:1::10"),
                                                        DHCPv6Host(name: "db-1", ip: "fd00:10:1::11")]))
        #expect(parsed.model.ipv4?.prefix == 24)
        #expect(parsed.hatch?.live.isEmpty == true, "the IPv6 <ip> is the model's, not raw XML")
        #expect(LibvirtXML.ipv6Index(inNetwork: "<network><ip family='ipv6' address='fd00::1'/><ip address='10.0.0.1'/></network>") == 0)
        #expect(LibvirtXML.ipv4Index(inNetwork: "<network><ip family='ipv6' address='fd00::1'/><ip address='10.0.0.1'/></network>") == 1)
    }

    @Test("a dual-stack network converges; a DHCPv6 host is planned live and added in place, then the plan is empty")
    func hostAddedInPlace() async throws {
        let session = try await Fixture.session()
        let model = Models.dualStackNetwork
        try await session.apply(Steps.network(.create, model))
        #expect(try await plan(model, session).steps.isEmpty)
        let before = try #require(try await session.observe(host: Steps.host).networks[model.name])

        var wanted = model
        wanted.ipv6?.hosts.append(DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:2", name: "web-2", ip: "fd00:10:1::12"))
        wanted.ipv4?.hosts.append(DHCPHost(mac: "52:54:00:00:00:08", ip: "192.168.123.8"))
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["ipv4.dhcp.hosts[52:54:00:00:00:08]", "ipv6.dhcp.hosts[fd00:10:1::12]"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.uuid == before.uuid && after.active)
        #expect(after.model.ipv6 == wanted.ipv6 && after.model.ipv4 == wanted.ipv4)
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }

    @Test("IPv6 the spec leaves out is kept when virtsync redefines the network")
    func leftOutKept() async throws {
        let session = try await Fixture.session()
        let model = Models.dualStackNetwork
        try await session.apply(Steps.network(.create, model))
        var wanted = model
        wanted.ipv6 = nil
        wanted.ipv4?.dhcpStart = "192.168.123.100"
        wanted.ipv4?.dhcpEnd = "192.168.123.199"
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .replace && step.changes.map(\.field) == ["ipv4.dhcp"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.model.ipv6 == model.ipv6)
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }
}
