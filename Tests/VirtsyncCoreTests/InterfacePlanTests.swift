import Testing
import VirtsyncCore

/// What the interface-options plan case is meant to show, so that a re-recording cannot hide a
/// planner change.
@Suite("interface options in plans")
struct InterfacePlanTests {
    @Test("new shaping on a running VM is live with its operation; MTU and queues wait for the next boot; open options are no drift")
    func classes() throws {
        let plan = PlanCase.interfaceOptions.plan
        let byID = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.id, $0) })

        let shaped = try #require(byID["update:domain:local/app-1"])
        #expect(shaped.disruption == .live)
        #expect(shaped.changes.map(\.field) == ["interfaces[0].bandwidth"])
        #expect(shaped.changes.first?.before == "in 1MiB/s peak 2MiB/s")
        #expect(shaped.changes.first?.after == "in 2MiB/s, out 512KiB/s")
        guard case .domain(_, let live, _) = shaped.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.setInterfaceBandwidth(mac: "52:54:00:00:a1:01", InterfaceBandwidth(inbound: BandwidthRate(average: .mib(2)),
                                                                                           outbound: BandwidthRate(average: .kib(512))))])

        let tuned = try #require(byID["update:domain:local/app-2"])
        #expect(tuned.disruption == .nextBoot)
        #expect(tuned.changes.map(\.field) == ["interfaces[0]"])
        guard case .domain(_, let none, _) = tuned.payload else { Issue.record("no domain payload"); return }
        #expect(none.isEmpty)

        #expect(byID["update:domain:local/app-3"] == nil, "\(plan.steps.map(\.id))")
        let fresh = try #require(byID["create:domain:local/edge-1"])
        #expect(fresh.changes.filter { $0.field.hasPrefix("interfaces[") }.map(\.after) == [
            "bridge br0 virtio 52:54:00:00:e0:01 mtu=9000 queues=4 bandwidth(in 10MiB/s peak 20MiB/s burst 1MiB, out 5MiB/s)",
            "bridge ovs0 virtio 52:54:00:00:e0:02 vlan(trunk 10,20,30 native 10 untagged) virtualport(openvswitch interfaceid=2d6b9a1e-0c4f-4e8a-9b3d-5f7e1a2c4b6d profileid=edge)",
            "direct enp1s0f0v3 passthrough virtio 52:54:00:00:e0:03 vlan(tag 7)",
        ])
    }

    @Test("a bandwidth change on a stopped VM lands in its definition; removing all shaping clears both directions live")
    func stoppedAndRemoved() throws {
        let nic = InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:b1:01",
                                 options: InterfaceOptions(bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(1)))))
        func plan(_ vm: DomainModel, _ seen: ObservedDomain) -> [PlanStep] {
            let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: PlanCase.specDigest)
            let observed = ObservedState(hosts: ["local": ObservedHost(name: "local", domains: [vm.name: seen])])
            return Planner.plan(desired: desired, observed: observed).steps
        }
        let stoppedVM = DomainModel(name: "vm", memory: .mib(64), interfaces: [nic], power: .stopped)
        var stoppedSeen = Lab.observed(stoppedVM, uuid: "u", state: .shutoff)
        stoppedSeen.model.interfaces[0].options = nil
        let stopped = plan(stoppedVM, stoppedSeen)
        #expect(stopped.map(\.id) == ["update:domain:local/vm"])
        #expect(stopped.first?.changes.map(\.disruption) == [Disruption.none])
        if case .domain(_, let live, _) = stopped.first?.payload { #expect(live.isEmpty) }

        var cleared = stoppedVM
        cleared.power = .running
        cleared.interfaces[0].options = InterfaceOptions(bandwidth: InterfaceBandwidth())
        let running = Lab.observed(stoppedVM, uuid: "u", state: .running,
                                   live: LiveDomainValues(memory: .mib(64), maxMemory: .mib(64), vcpus: 1, maxVcpus: 1))
        let steps = plan(cleared, running)
        #expect(steps.map(\.id) == ["update:domain:local/vm"])
        #expect(steps.first?.changes.map(\.field) == ["interfaces[0].bandwidth"])
        guard case .domain(_, let live, _) = steps.first?.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.setInterfaceBandwidth(mac: "52:54:00:00:b1:01", InterfaceBandwidth())])
    }

    @Test("a running guest shaped otherwise than its (right) definition is shaped again, live")
    func liveDrift() throws {
        let shaping = InterfaceBandwidth(outbound: BandwidthRate(average: .mib(4)))
        let vm = DomainModel(name: "vm", memory: .mib(64), interfaces: [
            InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:b2:01", options: InterfaceOptions(bandwidth: shaping)),
        ], power: .running)
        var seen = Lab.observed(vm, uuid: "u", state: .running)
        seen.live?.bandwidth = ["52:54:00:00:b2:01": InterfaceBandwidth(outbound: BandwidthRate(average: .mib(1)))]
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: PlanCase.specDigest)
        let steps = Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local", domains: ["vm": seen])])).steps
        #expect(steps.first?.changes.map(\.field) == ["interfaces[0].bandwidth.live"], "\(steps)")
        #expect(steps.first?.disruption == .live)
        guard case .domain(_, let live, _) = steps.first?.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.setInterfaceBandwidth(mac: "52:54:00:00:b2:01", shaping)])
        // Shaped as wanted: nothing to do.
        seen.live?.bandwidth = ["52:54:00:00:b2:01": shaping]
        #expect(Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local", domains: ["vm": seen])])).steps.isEmpty)
    }
}
