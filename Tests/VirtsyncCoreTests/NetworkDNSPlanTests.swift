import Testing
import VirtsyncCore

/// DNS of a network in the planner: host records live, the rest a restart, parts left out open.
@Suite("network DNS in the planner")
struct NetworkDNSPlanTests {
    static let dns = NetworkDNS(domain: "lab.example", localOnly: true, hosts: [DNSHost(ip: "10.20.0.5", names: ["db"])],
                                forwarders: [DNSForwarder(addr: "192.0.2.53")])

    private func plan(_ desired: NetworkDNS?, observed: NetworkDNS?) -> Plan {
        let want = NetworkModel(name: "nd", mode: .isolated, ipv4: IPv4Config(address: "10.20.0.1", prefix: 24), dns: desired)
        var seen = want
        seen.dns = observed
        let host = ObservedHost(name: "local", networks: ["nd": ObservedNetwork(model: seen, uuid: "u", active: true, managed: true)])
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [want])], specDigest: "d"),
                            observed: ObservedState(hosts: ["local": host]))
    }

    @Test("a host record added, removed or renamed is a live update keyed by address")
    func hostsLive() throws {
        var wanted = Self.dns
        wanted.hosts = [DNSHost(ip: "10.20.0.5", names: ["db", "db2"]), DNSHost(ip: "10.20.0.6", names: ["web"])]
        let step = try #require(plan(wanted, observed: Self.dns).steps.first)
        #expect(step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["dns.hosts[10.20.0.5]", "dns.hosts[10.20.0.6]"])
        #expect(step.changes.first?.before == "db" && step.changes.first?.after == "db db2")
    }

    @Test("domain, localOnly and forwarders restart the network (replace)")
    func restart() throws {
        var wanted = Self.dns
        wanted.forwarders = [DNSForwarder(domain: "corp.example", addr: "192.0.2.54")]
        wanted.localOnly = false
        let step = try #require(plan(wanted, observed: Self.dns).steps.first)
        #expect(step.action == .replace && step.changes.map(\.field) == ["dns.localOnly", "dns.forwarders"])
        #expect(step.changes.last?.after == "corp.example → 192.0.2.54")
    }

    @Test("dns or a part of it left out is libvirt's: never compared")
    func leftOut() {
        #expect(plan(nil, observed: Self.dns).steps.isEmpty)
        #expect(plan(NetworkDNS(hosts: Self.dns.hosts), observed: Self.dns).steps.isEmpty)
        #expect(plan(NetworkDNS(forwarders: []), observed: nil).steps.isEmpty, "no forwarders is what libvirt has without <dns>")
    }
}

/// A network defined by an earlier version with raw `<dns><txt>` (its inventory records the path
/// `dns`, a container since `dns` is a field) plans nothing: no restart after an upgrade.
@Suite("network DNS after an upgrade")
struct NetworkDNSUpgradeTests {
    @Test("a recorded path that became a container does not make the unchanged raw <dns><txt> drift")
    func recordedContainer() {
        let net = NetworkModel(name: "nd", mode: .isolated, ipv4: IPv4Config(address: "10.20.0.1", prefix: 24),
                               extraXML: "<dns><txt name='x' value='y'/></dns>")
        let txt = HatchLeaf(path: "dns/txt", node: HatchNode(name: "txt", attributes: ["name": "x", "value": "y"]))
        let seen = ObservedNetwork(model: NetworkModel(name: "nd", mode: .isolated, ipv4: IPv4Config(address: "10.20.0.1", prefix: 24)),
                                   uuid: "u", active: true, managed: true, hatch: ObservedHatch(recorded: ["dns"], live: [txt], complete: true))
        let plan = Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [net])], specDigest: "d"),
                                observed: ObservedState(hosts: ["local": ObservedHost(name: "local", networks: ["nd": seen])]))
        #expect(plan.steps.isEmpty, "\(plan.steps.map { "\($0.id) \($0.changes)" })")
    }
}
