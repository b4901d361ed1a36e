import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt
import VirtsyncXML

/// DNS of a network through libvirt's test driver: raw XML inside <dns> merges with the model's,
/// a second plan is empty, a host record is added in place, and DNS the spec leaves out is kept.
@Suite("network DNS through libvirt")
struct NetworkDNSTests {
    private func plan(_ model: NetworkModel, _ session: LibvirtSession) async throws -> Plan {
        var host = try await session.observe(host: Steps.host)
        for name in host.networks.keys { host.networks[name]?.managed = true }
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: Steps.host, networks: [model])], specDigest: "d"),
                            observed: ObservedState(hosts: [Steps.host: host]))
    }

    @Test("a <dns> holding only raw XML (<txt>) is none of the model's; the model's records and the raw ones share one <dns>")
    func rawAndModel() throws {
        #expect(try LibvirtXML.parseNetwork("<network><name>n</name><dns><txt name='a' value='b'/></dns></network>").model.dns == nil)
        let root = try XMLParser.parse(LibvirtXML.network(Models.dnsNetwork))
        #expect(root.children(named: "dns").count == 1)
        #expect(root.child("dns")?.children(named: "txt").count == 1 && root.child("dns")?.children(named: "host").count == 2)
    }

    @Test("a network with DNS converges; a host record is planned live and added in place, then the plan is empty")
    func hostAddedInPlace() async throws {
        let session = try await Fixture.session()
        let model = Models.dnsNetwork
        try await session.apply(Steps.network(.create, model))
        #expect(try await plan(model, session).steps.isEmpty)
        let before = try #require(try await session.observe(host: Steps.host).networks[model.name])
        var wanted = model
        wanted.dns?.hosts?.append(DNSHost(ip: "192.168.124.9", names: ["cache"]))
        wanted.dns?.hosts?.sort { $0.ip < $1.ip }
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .update && step.disruption == .live && step.changes.map(\.field) == ["dns.hosts[192.168.124.9]"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.uuid == before.uuid && after.active && after.model.dns?.hosts == wanted.dns?.hosts)
        #expect(after.hatch?.live.map(\.path) == ["dns/txt"], "the raw <txt> is still there")
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }

    @Test("DNS the spec leaves out is kept when virtsync redefines the network")
    func leftOutKept() async throws {
        let session = try await Fixture.session()
        let model = Models.dnsNetwork
        try await session.apply(Steps.network(.create, model))
        var wanted = model
        wanted.dns = NetworkDNS(forwarders: [DNSForwarder(addr: "192.0.2.99")])
        let step = try #require(try await plan(wanted, session).steps.first)
        #expect(step.action == .replace && step.changes.map(\.field) == ["dns.forwarders"])
        try await session.apply(step)
        let after = try #require(try await session.observe(host: Steps.host).networks[model.name])
        #expect(after.model.dns?.domain == "lab.example" && after.model.dns?.hosts == model.dns?.hosts)
        #expect(after.model.dns?.forwarders == [DNSForwarder(addr: "192.0.2.99")])
        #expect(try await plan(wanted, session).steps.isEmpty)
        try await session.apply(Steps.remove(.network, model.name))
    }
}
