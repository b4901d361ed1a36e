import Testing
import VirtsyncCore
import VirtsyncSpec

/// Interface options in the spec: bandwidth, mtu, queues, vlan, virtualport and the direct
/// (macvtap) source decoded into the model, libvirt's refusals reported at their keys.
@Suite("interface options in the spec")
struct InterfaceOptionsSpecTests {
    private func load(_ interfaces: String) -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: Network
            name: lab
            mode: isolated
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: edge-1
            memory: 1GiB
            vcpus: 4
            interfaces:
            \(interfaces)
            """
        return SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
    }

    @Test("bandwidth, mtu, queues, vlan, virtualport and direct reach the model")
    func decodes() throws {
        let result = load("""
              - network: lab
                mtu: 9000
                queues: 4
                bandwidth:
                  inbound: {average: 10MiB, peak: 20MiB, burst: 1MiB}
                  outbound: {average: 512KiB}
              - bridge: ovs0
                virtualport: {type: openvswitch, interfaceId: 09B11C53-8B5C-4EEB-8F00-D84EAA0AAA4F, profileId: menial}
                vlan: {trunk: true, tags: [30, 10, 20], native: 10, nativeMode: tagged}
              - direct: {device: enp1s0f0v3, mode: passthrough}
                vlan: {tag: 7}
              - direct: {device: eth0}
                bandwidth: {}
            """)
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.interfaces.map(\.source) == [.network("lab"), .bridge("ovs0"), .direct(device: "enp1s0f0v3", mode: .passthrough),
                                                .direct(device: "eth0", mode: .vepa)])
        #expect(vm.interfaces[0].options == InterfaceOptions(
            bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(10), peak: .mib(20), burst: .mib(1)),
                                          outbound: BandwidthRate(average: .kib(512))),
            mtu: 9000, queues: 4))
        #expect(vm.interfaces[1].options == InterfaceOptions(
            vlan: InterfaceVLAN(tags: [10, 20, 30], trunk: true, native: 10, nativeMode: .tagged),
            virtualPort: VirtualPort(type: .openvswitch, interfaceId: "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f", profileId: "menial")))
        #expect(vm.interfaces[2].options == InterfaceOptions(vlan: InterfaceVLAN(tags: [7])))
        #expect(vm.interfaces[3].options == InterfaceOptions(bandwidth: InterfaceBandwidth()), "bandwidth: {} asks for no shaping")
    }

    @Test("an interface without options has none (libvirt's, never compared)")
    func noOptions() throws {
        let result = load("  - network: lab")
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.interfaces[0].options == nil)
    }

    @Test("VLANs out of range and the other mistakes libvirt would refuse are reported at their keys with file and line")
    func mistakes() {
        let result = load("""
              - bridge: ovs0
                virtualport: {type: openvswitch}
                vlan: {tag: 4095}
              - bridge: ovs0
                virtualport: {type: openvswitch}
                vlan: {trunk: true, tags: [10, 0, 10], native: 20}
              - bridge: br0
                vlan: {tag: 10}
              - direct: {device: eth0, mode: bridge}
                vlan: {tag: 10}
              - network: lab
                model: e1000
                queues: 2
                mtu: 20
              - network: lab
                virtualport: {type: openvswitch}
                bandwidth: {inbound: {peak: 2MiB}, outbound: {average: 1000B}}
              - network: lab
                direct: {device: "eth/0"}
              - bridge: ovs0
                virtualport: {type: openvswitch}
                vlan: {tags: [10, 20]}
              - network: lab
                bandwidth: {inbound: {average: 2MiB, peak: 1MiB}}
              - direct: {device: eth0}
                mtu: 9000
            """)
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        let expected = [
            "vm.yaml:14:17: error: VirtualMachine[edge-1].interfaces[0].vlan.tag: 4095 is out of range; expected 1...4094",
            "vm.yaml:17:36: error: VirtualMachine[edge-1].interfaces[1].vlan.tags[1]: VLAN 0 is out of range; expected 1...4094",
            "vm.yaml:17:39: error: VirtualMachine[edge-1].interfaces[1].vlan.tags[2]: VLAN 10 is listed twice",
            "vm.yaml:17:52: error: VirtualMachine[edge-1].interfaces[1].vlan.native: native VLAN 20 is not among the trunk's tags",
            "vm.yaml:19:5: error: VirtualMachine[edge-1].interfaces[2].vlan: a VLAN on a bridge needs an Open vSwitch bridge",
            "vm.yaml:21:5: error: VirtualMachine[edge-1].interfaces[3].vlan: a VLAN on a direct interface needs mode: passthrough",
            "vm.yaml:24:13: error: VirtualMachine[edge-1].interfaces[4].queues: several queues need the virtio model",
            "vm.yaml:25:10: error: VirtualMachine[edge-1].interfaces[4].mtu: 20 is out of range; expected 68...65535",
            "vm.yaml:27:5: error: VirtualMachine[edge-1].interfaces[5].virtualport: virtualport applies to a 'bridge' interface",
            "error: VirtualMachine[edge-1].interfaces[5].bandwidth.inbound.average: missing required key 'average'",
            "error: VirtualMachine[edge-1].interfaces[5].bandwidth.outbound.average: libvirt shapes traffic in whole KiB",
            "vm.yaml:30:5: error: VirtualMachine[edge-1].interfaces[6]: an interface has one of 'network', 'bridge' or 'direct', not 'network' and 'direct'",
            "error: VirtualMachine[edge-1].interfaces[6].direct.device: device name",
            "error: VirtualMachine[edge-1].interfaces[7].vlan.tags: 'tags' make a trunk",
            "error: VirtualMachine[edge-1].interfaces[8].bandwidth.inbound.peak: peak (1MiB/s) is below average (2MiB/s)",
            "vm.yaml:37:10: error: VirtualMachine[edge-1].interfaces[9].mtu: libvirt cannot set the MTU of a direct (macvtap) interface",
        ]
        for line in expected { #expect(text.contains(line), "\(line)\n\(text)") }
    }
}
