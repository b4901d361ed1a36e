import Testing
import VirtsyncCore
import VirtsyncTesting

/// MTU, uplink, shaping and port groups of a network in the planner: a restart of the network for
/// the first three, live updates for port groups, nothing compared for what the spec leaves out,
/// and a second plan that is empty once the in-memory hypervisor applied the first.
@Suite("network MTU, uplink, bandwidth and port groups in the planner")
struct NetworkLinkPlanTests {
    static let shaping = InterfaceBandwidth(inbound: BandwidthRate(average: .kib(1000), peak: .kib(2000), burst: .kib(512)),
                                            outbound: BandwidthRate(average: .kib(500)))
    static let groups = [NetworkPortgroup(name: "web", isDefault: true, bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(100)))),
                         NetworkPortgroup(name: "db")]
    static let full = NetworkModel(name: "nl", mode: .nat, ipv4: IPv4Config(address: "10.21.0.1", prefix: 24), mtu: 9000, uplink: "eth0",
                                   bandwidth: shaping, portgroups: groups)

    private func plan(_ want: NetworkModel, observed seen: NetworkModel?, active: Bool = true) -> Plan {
        let networks = seen.map { ["nl": ObservedNetwork(model: $0, uuid: "u", active: active, managed: true)] } ?? [:]
        return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [want])], specDigest: "d"),
                            observed: ObservedState(hosts: ["local": ObservedHost(name: "local", networks: networks)]))
    }

    private func with(_ change: (inout NetworkModel) -> Void) -> NetworkModel {
        var model = Self.full
        change(&model)
        return model
    }

    @Test("a new MTU, uplink or shaping restarts the network (replace)")
    func restart() throws {
        let mtuPlan = plan(with { $0.mtu = 1500 }, observed: Self.full)
        let mtu = try #require(mtuPlan.steps.first)
        #expect(mtu.action == .replace && mtu.disruption == .replace && mtu.changes.map(\.field) == ["mtu"])
        #expect(mtu.changes.first?.before == "9000" && mtu.changes.first?.after == "1500")
        let uplinkPlan = plan(with { $0.uplink = "eth1" }, observed: Self.full)
        let uplink = try #require(uplinkPlan.steps.first)
        #expect(uplink.action == .replace && uplink.changes.map(\.field) == ["uplink"])
        let shapingPlan = plan(with { $0.bandwidth?.outbound = nil }, observed: Self.full)
        let shaping = try #require(shapingPlan.steps.first)
        #expect(shaping.action == .replace && shaping.changes.map(\.field) == ["bandwidth"])
        #expect(shaping.changes.first?.after == "in 1000KiB/s peak 2000KiB/s burst 512KiB")
        let unshapedPlan = plan(with { $0.bandwidth = InterfaceBandwidth() }, observed: Self.full)
        let unshaped = try #require(unshapedPlan.steps.first)
        #expect(unshaped.changes.first?.after == "none", "bandwidth: {} removes the shaping")
    }

    @Test("open is a mode of its own: routed to open restarts the network")
    func openMode() throws {
        let routed = NetworkModel(name: "nl", mode: .routed, ipv4: IPv4Config(address: "10.21.0.1", prefix: 24))
        var open = routed
        open.mode = .open
        let step = try #require(plan(open, observed: routed).steps.first)
        #expect(step.action == .replace && step.changes.map(\.field) == ["mode"] && step.changes.first?.after == "open")
        #expect(plan(open, observed: open).steps.isEmpty)
    }

    @Test("a port group added, removed or changed is a live update keyed by name")
    func portgroupsLive() throws {
        let wanted = with {
            $0.portgroups = [NetworkPortgroup(name: "web", bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(200)))),
                             NetworkPortgroup(name: "backup", isDefault: true)]
        }
        let planned = plan(wanted, observed: Self.full)
        let step = try #require(planned.steps.first)
        #expect(step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["portgroups[backup]", "portgroups[db]", "portgroups[web]"])
        #expect(step.changes.map(\.after) == ["default", nil, "bandwidth(in 200KiB/s)"])
        #expect(step.changes.last?.before == "default bandwidth(in 100KiB/s)")
    }

    @Test("what the spec leaves out is libvirt's: never compared; uplink is not compared where the mode takes none")
    func leftOut() {
        let bare = NetworkModel(name: "nl", mode: .nat, ipv4: IPv4Config(address: "10.21.0.1", prefix: 24))
        #expect(plan(bare, observed: Self.full).steps.isEmpty)
        let open = with { $0.portgroups = nil }, other = with { $0.portgroups = [NetworkPortgroup(name: "other")] }
        #expect(plan(open, observed: other).steps.isEmpty)
        var isolated = Self.full
        isolated.mode = .isolated
        var seen = isolated
        seen.uplink = nil
        #expect(plan(isolated, observed: seen).steps.isEmpty)
        let none = with { $0.portgroups = [] }
        #expect(plan(none, observed: open).steps.isEmpty, "no groups is no groups")
    }

    @Test("a new network lists the new fields without disruption")
    func creation() throws {
        let step = try #require(plan(Self.full, observed: nil).steps.first)
        #expect(step.action == .create)
        #expect(step.changes.map(\.field).filter { ["mtu", "uplink", "bandwidth"].contains($0) || $0.hasPrefix("portgroups") }
                == ["mtu", "uplink", "bandwidth", "portgroups[db]", "portgroups[web]"])
        #expect(step.changes.allSatisfy { $0.disruption == .none })
    }

    @Test("applied to the in-memory hypervisor, every change converges: the second plan is empty, parts left out are kept")
    func idempotent() async throws {
        let hypervisor = InMemoryHypervisor()
        func planned(_ model: NetworkModel) async throws -> Plan {
            var host = try await hypervisor.observe(host: "local")
            for name in host.networks.keys { host.networks[name]?.managed = true }
            return Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [model])], specDigest: "d"),
                                observed: ObservedState(hosts: ["local": host]))
        }
        for model in [with { $0.mode = .open }, Self.full, with { $0.mtu = 1400 },
                      with { $0.portgroups = [NetworkPortgroup(name: "db", isDefault: true)] }] {
            let first = try await planned(model)
            #expect(!first.steps.isEmpty)
            for step in first.steps { try await hypervisor.apply(step) }
            let second = try await planned(model)
            #expect(second.steps.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        }
        var bare = NetworkModel(name: "nl", mode: .nat, ipv4: IPv4Config(address: "10.21.0.1", prefix: 24))
        bare.dns = NetworkDNS(domain: "x.example")
        for step in try await planned(bare).steps { try await hypervisor.apply(step) }
        let kept = try #require(try await hypervisor.observe(host: "local").networks["nl"]?.model)
        #expect(kept.mtu == 9000 && kept.uplink == "eth0" && kept.bandwidth == Self.shaping)
        #expect(kept.portgroups == [NetworkPortgroup(name: "db", isDefault: true)])
    }
}

/// A VM interface's port group in the planner, and a network whose inventory recorded raw
/// `<mtu>` before `mtu` was a field.
@Suite("port groups of VM interfaces and raw <mtu> after an upgrade")
struct InterfacePortgroupPlanTests {
    @Test("an interface's port group left out is not compared; a new one is next-boot on a running VM")
    func interfacePortgroup() throws {
        var desired = labDesired(web2: false)
        desired.hosts[0].domains[0].interfaces[0].mac = "52:54:00:aa:00:01"
        desired.hosts[0].domains[0].interfaces[0].options = InterfaceOptions(portgroup: "web")
        var observed = ObservedState.assuming(desired)
        #expect(Planner.plan(desired: desired, observed: observed).steps.isEmpty)
        observed.hosts["local"]?.domains["web-1"]?.model.interfaces[0].options?.portgroup = "db"
        let plan = Planner.plan(desired: desired, observed: observed)
        let step = try #require(plan.steps.first { $0.resource.kind == .domain })
        #expect(step.disruption == .nextBoot && step.changes.map(\.field) == ["interfaces[0]"])
        #expect(step.changes.first?.before?.contains("portgroup=db") == true && step.changes.first?.after?.contains("portgroup=web") == true)
        desired.hosts[0].domains[0].interfaces[0].options = nil
        #expect(Planner.plan(desired: desired, observed: observed).steps.isEmpty, "a group the spec leaves out is libvirt's")
    }

    @Test("a network whose inventory recorded raw <mtu> plans nothing once the spec says mtu")
    func recordedMTU() {
        let net = NetworkModel(name: "nl", mode: .isolated, ipv4: IPv4Config(address: "10.21.0.1", prefix: 24), mtu: 9000)
        let seen = ObservedNetwork(model: net, uuid: "u", active: true, managed: true, hatch: ObservedHatch(recorded: ["mtu"], live: [], complete: true))
        let plan = Planner.plan(desired: DesiredState(hosts: [DesiredHost(name: "local", networks: [net])], specDigest: "d"),
                                observed: ObservedState(hosts: ["local": ObservedHost(name: "local", networks: ["nl": seen])]))
        #expect(plan.steps.isEmpty, "\(plan.steps.map { "\($0.id) \($0.changes)" })")
    }
}
