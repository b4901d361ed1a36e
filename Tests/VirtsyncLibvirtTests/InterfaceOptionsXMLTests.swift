import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML
@testable import VirtsyncLibvirt

/// Interface options in libvirt XML: written, read back, kept by the merge when the spec leaves
/// them open, converged on the test driver.
@Suite("interface options in libvirt XML")
struct InterfaceOptionsXMLTests {
    static let shaped = InterfaceOptions(
        bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(10), peak: .mib(20), burst: .mib(1)),
                                      outbound: BandwidthRate(average: .kib(512))),
        mtu: 9000, queues: 4)
    static let trunk = InterfaceOptions(vlan: InterfaceVLAN(tags: [10, 20, 30], trunk: true, native: 10, nativeMode: .untagged),
                                        virtualPort: VirtualPort(type: .openvswitch, interfaceId: "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f",
                                                                 profileId: "menial"))
    static let passthrough = InterfaceOptions(vlan: InterfaceVLAN(tags: [7]))
    static let vm = DomainModel(name: "tuned-nics", memory: .mib(64), interfaces: [
        InterfaceModel(source: .bridge("br-test"), mac: "52:54:00:aa:00:01", options: shaped),
        InterfaceModel(source: .bridge("ovs0"), mac: "52:54:00:aa:00:02", options: trunk),
        InterfaceModel(source: .direct(device: "enp1s0f0v3", mode: .passthrough), mac: "52:54:00:aa:00:03", options: passthrough),
        InterfaceModel(source: .direct(device: "eth0", mode: .bridge), mac: "52:54:00:aa:00:04", model: "e1000"),
    ], power: .stopped)

    @Test("the options are written into <bandwidth>, <mtu>, <driver>, <vlan>, <virtualport> and <source dev mode>, and read back as they were")
    func roundTrip() throws {
        let xml = LibvirtXML.domain(Self.vm, marker: Steps.marker, domainType: "kvm")
        Fixture.expectGolden("domain-nic-options", xml)
        let parsed = try LibvirtXML.parseDomain(xml)
        #expect(parsed.model.interfaces == Self.vm.interfaces)
    }

    @Test("libvirt's forms are read: an implicit trunk, a floor alone, a zero queue count, a direct source without a mode")
    func libvirtForms() throws {
        let element = try XMLParser.parse("""
            <interface type='direct'><source dev='eth1'/><vlan><tag id='5' nativeMode='tagged'/><tag id='3'/></vlan>
            <bandwidth><inbound floor='100'/><outbound average='8' burst='16'/></bandwidth><driver name='vhost' queues='0'/></interface>
            """)
        let nic = try #require(LibvirtXML.parseInterface(element))
        #expect(nic.source == .direct(device: "eth1", mode: .vepa))
        #expect(nic.options == InterfaceOptions(bandwidth: InterfaceBandwidth(outbound: BandwidthRate(average: .kib(8), burst: .kib(16))),
                                                vlan: InterfaceVLAN(tags: [3, 5], trunk: true, native: 5, nativeMode: .tagged)))
    }

    @Test("an update keeps what the spec leaves open: libvirt's Open vSwitch port ID, a driver's other settings, shaping set by hand")
    func mergeKeepsOpenOptions() throws {
        let current = """
            <domain type='kvm'><name>n</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
            <interface type='bridge'><mac address='52:54:00:aa:00:02'/><source bridge='ovs0'/>
            <virtualport type='openvswitch'><parameters interfaceid='11111111-2222-3333-4444-555555555555'/></virtualport>
            <bandwidth><inbound average='100'/></bandwidth><model type='virtio'/><driver name='vhost' txmode='iothread'/><mtu size='1400'/>
            <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>
            </devices></domain>
            """
        let wanted = InterfaceModel(source: .bridge("ovs0"), mac: "52:54:00:aa:00:02",
                                    options: InterfaceOptions(queues: 2, vlan: InterfaceVLAN(tags: [42]), virtualPort: VirtualPort()))
        let model = DomainModel(name: "n", memory: .mib(64), interfaces: [wanted], serialConsole: false)
        let merged = try XMLParser.parse(try LibvirtXML.updatedDomain(current: current, model: model, marker: OwnershipMarker(specDigest: "m")))
        let nic = try #require(merged.child("devices")?.child("interface"))
        #expect(nic.path("virtualport/parameters")?[attribute: "interfaceid"] == "11111111-2222-3333-4444-555555555555")
        #expect(nic.child("driver")?[attribute: "txmode"] == "iothread" && nic.child("driver")?[attribute: "queues"] == "2")
        #expect(nic.path("bandwidth/inbound")?[attribute: "average"] == "100")
        #expect(nic.child("mtu")?[attribute: "size"] == "1400")
        #expect(nic.path("vlan/tag")?[attribute: "id"] == "42")
        #expect(nic.child("address") != nil)
        // What the spec sets replaces what was there.
        var shaped = wanted
        shaped.options?.bandwidth = InterfaceBandwidth(outbound: BandwidthRate(average: .mib(1)))
        shaped.options?.mtu = 9000
        let replaced = try XMLParser.parse(try LibvirtXML.updatedDomain(current: current, model: DomainModel(name: "n", memory: .mib(64),
                                                                                                             interfaces: [shaped], serialConsole: false),
                                                                        marker: OwnershipMarker(specDigest: "m")))
        let second = try #require(replaced.child("devices")?.child("interface"))
        #expect(second.path("bandwidth/inbound") == nil && second.path("bandwidth/outbound")?[attribute: "average"] == "1024")
        #expect(second.children(named: "mtu").map { $0[attribute: "size"] } == ["9000"])
    }

    @Test("on the test driver the options converge: a second plan is empty; libvirt's own defaults are no drift")
    func converges() async throws {
        let run = try DriverRun()
        var vm = Self.vm
        // libvirt generates the Open vSwitch port ID when the spec gives none.
        vm.interfaces[1].options?.virtualPort?.interfaceId = nil
        let desired = DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, domains: [vm])], specDigest: "n1c")
        try await run.apply(desired)
        let second = await run.plan(desired)
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        var changed = desired
        changed.hosts[0].domains[0].interfaces[0].options?.mtu = 1400
        changed.hosts[0].domains[0].interfaces[2].options?.vlan = InterfaceVLAN(tags: [8])
        let third = await run.plan(changed)
        #expect(third.steps.first?.changes.map(\.field) == ["interfaces[0]", "interfaces[2]"], "\(third.steps)")
    }
}
