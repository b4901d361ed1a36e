import Testing
import VirtsyncCore

/// IPv6 of a network in the planner: the address in canonical form, live DHCPv6 hosts, the rest
/// a restart of the network, and nothing compared when the spec leaves `ipv6` out.
@Suite("network IPv6 in the planner")
struct NetworkIPv6PlanTests {
    static let ipv6 = IPv6Config(address: "fd00:10:1::1", prefix: 64,
                                 dhcpRanges: [DHCPRange(start: "fd00:10:1::100", end: "fd00:10:1::1ff")],
                                 hosts: [DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:1", name: "web-1", ip: "fd00:10:1::10")])

    private func plan(_ desired: IPv6Config?, observed: IPv6Config?, active: Bool = true) -> Plan {
        let want = NetworkModel(name: "n6", mode: .isolated, ipv4: IPv4Config(address: "10.20.0.1", prefix: 24), ipv6: desired)
        var seen = want
        seen.ipv6 = observed
        seen.autostart = true
        let host = ObservedHost(name: "local", networks: ["n6": ObservedNetwork(model: seen, uuid: "u", active: active, managed: true)])
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [want])], specDigest: "d"),
                            observed: ObservedState(hosts: ["local": host]))
    }

    @Test("addresses compare in canonical form: FD00:10:1:0:0:0:0:1 is fd00:10:1::1")
    func canonical() {
        #expect(IPv6Address("FD00:10:1:0:0:0:0:1")?.description == "fd00:10:1::1")
        #expect(IPv6Address("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1", "the first of two equal zero runs")
        #expect(IPv6Address("::")?.description == "::")
        #expect(IPv6Address("fd00:0:0:1::")?.description == "fd00:0:0:1::")
        #expect(IPv6Address("1:2:3:4:5:6:7:0")?.description == "1:2:3:4:5:6:7:0", "one zero group is not shortened")
        #expect(IPv6Address("fd00:::1") == nil && IPv6Address("fd00::1::2") == nil && IPv6Address("12345::") == nil && IPv6Address("1:2:3:4:5:6:7:8:9") == nil)
        #expect(IPv6Address("fd00:10:1::ffff")!.isIn(IPv6Address("fd00:10:1::1")!, prefix: 64))
        #expect(!IPv6Address("fd00:10:2::1")!.isIn(IPv6Address("fd00:10:1::1")!, prefix: 64))
        let echoed = IPv6Config(address: "FD00:10:1:0::1", prefix: 64, dhcpRanges: [DHCPRange(start: "fd00:10:1:0:0:0:0:100", end: "fd00:10:1::1FF")],
                                hosts: [DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:1", name: "web-1", ip: "fd00:10:1:0::10")])
        #expect(plan(Self.ipv6, observed: echoed).steps.isEmpty)
    }

    @Test("a DHCPv6 host added or removed is a live update")
    func hostsLive() throws {
        var wanted = Self.ipv6
        wanted.hosts.append(DHCPv6Host(name: "db-1", ip: "fd00:10:1::11"))
        let steps = plan(IPv6Config(address: wanted.address, prefix: 64, dhcpRanges: wanted.dhcpRanges, hosts: wanted.hosts), observed: Self.ipv6).steps
        let step = try #require(steps.first)
        #expect(steps.count == 1 && step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["ipv6.dhcp.hosts[fd00:10:1::11]"])
        #expect(step.changes.first?.after == "name db-1")
        let removed = plan(IPv6Config(address: "fd00:10:1::1", prefix: 64, dhcpRanges: Self.ipv6.dhcpRanges), observed: Self.ipv6).steps
        #expect(removed.first?.disruption == .live && removed.first?.changes.first?.after == nil)
    }

    @Test("a new address, prefix or range restarts the network (replace)")
    func addressingReplaces() throws {
        let moved = plan(IPv6Config(address: "fd00:10:2::1", prefix: 64), observed: IPv6Config(address: "fd00:10:1::1", prefix: 64)).steps
        #expect(moved.first?.action == .replace && moved.first?.changes.map(\.field) == ["ipv6.address"])
        let ranges = plan(IPv6Config(address: "fd00:10:1::1", prefix: 64, dhcpRanges: [DHCPRange(start: "fd00:10:1::200", end: "fd00:10:1::2ff")]),
                          observed: IPv6Config(address: "fd00:10:1::1", prefix: 64)).steps
        #expect(ranges.first?.action == .replace && ranges.first?.changes.first?.field == "ipv6.dhcp.ranges")
        #expect(ranges.first?.changes.first?.before == "none")
        let added = plan(Self.ipv6, observed: nil).steps
        #expect(added.first?.action == .replace && added.first?.changes.contains { $0.field == "ipv6.address" && $0.before == nil } == true)
    }

    @Test("ipv6 left out of the spec is libvirt's: never compared")
    func leftOut() {
        #expect(plan(nil, observed: Self.ipv6).steps.isEmpty)
    }

    @Test("a new network lists its IPv6 fields without disruption")
    func creation() throws {
        let want = NetworkModel(name: "n6", mode: .isolated, ipv6: Self.ipv6)
        let plan = Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [want])], specDigest: "d"),
                                observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
        let step = try #require(plan.steps.first)
        #expect(step.action == .create)
        #expect(step.changes.map(\.field).filter { $0.hasPrefix("ipv6") } == ["ipv6.address", "ipv6.dhcp.ranges", "ipv6.dhcp.hosts[fd00:10:1::10]"])
        #expect(step.changes.allSatisfy { $0.disruption == .none })
    }
}
