import VirtsyncCore

extension PlanCase {
    /// Interface options: a new VM with shaping, MTU, queues, an Open vSwitch trunk and a
    /// macvtap passthrough port (every option in the plan); a running VM whose shaping changes
    /// (live, with its operation); a running VM whose MTU and queues change (next boot); a
    /// running VM whose spec leaves the options open while libvirt has its own (a generated
    /// port ID, shaping and a driver set by hand): nothing to do.
    static let interfaceOptions: PlanCase = {
        let fresh = DomainModel(name: "edge-1", vcpus: 4, memory: .gib(1), interfaces: [
            InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:e0:01", options: InterfaceOptions(
                bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(10), peak: .mib(20), burst: .mib(1)),
                                              outbound: BandwidthRate(average: .mib(5))),
                mtu: 9000, queues: 4)),
            InterfaceModel(source: .bridge("ovs0"), mac: "52:54:00:00:e0:02", options: InterfaceOptions(
                vlan: InterfaceVLAN(tags: [10, 20, 30], trunk: true, native: 10),
                virtualPort: VirtualPort(type: .openvswitch, interfaceId: "2d6b9a1e-0c4f-4e8a-9b3d-5f7e1a2c4b6d", profileId: "edge"))),
            InterfaceModel(source: .direct(device: "enp1s0f0v3", mode: .passthrough), mac: "52:54:00:00:e0:03",
                           options: InterfaceOptions(vlan: InterfaceVLAN(tags: [7]))),
        ], power: .running)

        let shapedBefore = InterfaceOptions(bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(1), peak: .mib(2))))
        let shapedAfter = InterfaceOptions(bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(2)),
                                                                         outbound: BandwidthRate(average: .kib(512))))
        let shaped = DomainModel(name: "app-1", memory: .mib(512), interfaces: [
            InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:a1:01", options: shapedAfter),
        ], power: .running)
        var shapedSeen = Lab.observed(shaped, uuid: "u-1", state: .running,
                                      live: LiveDomainValues(memory: .mib(512), maxMemory: .mib(512), vcpus: 1, maxVcpus: 1))
        shapedSeen.model.interfaces[0].options = shapedBefore

        let tuned = DomainModel(name: "app-2", memory: .mib(512), interfaces: [
            InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:a2:01", options: InterfaceOptions(mtu: 9000, queues: 2)),
        ], power: .running)
        var tunedSeen = Lab.observed(tuned, uuid: "u-2", state: .running)
        tunedSeen.model.interfaces[0].options = InterfaceOptions(mtu: 1500)

        let open = DomainModel(name: "app-3", memory: .mib(512), interfaces: [
            InterfaceModel(source: .bridge("ovs0"), mac: "52:54:00:00:a3:01", options: InterfaceOptions(virtualPort: VirtualPort(type: .openvswitch))),
        ], power: .running)
        var openSeen = Lab.observed(open, uuid: "u-3", state: .running)
        openSeen.model.interfaces[0].options = InterfaceOptions(
            bandwidth: InterfaceBandwidth(outbound: BandwidthRate(average: .mib(1))), mtu: 1400, queues: 2,
            virtualPort: VirtualPort(type: .openvswitch, interfaceId: "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"))

        let host = DesiredHost(name: "local", domains: [fresh, shaped, tuned, open])
        let observed = ObservedHost(name: "local", domains: ["app-1": shapedSeen, "app-2": tunedSeen, "app-3": openSeen])
        return PlanCase("interface-options", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()
}
