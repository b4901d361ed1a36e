import Testing
import VirtsyncCore
@testable import VirtsyncSpec

/// `virtsync import` of interface options and macvtap interfaces: written in the spec's words,
/// and read back by the loader into the same model.
@Suite("spec writer: interface options")
struct SpecWriterInterfaceTests {
    static let edge = DomainModel(name: "edge-1", vcpus: 4, memory: .mib(256), interfaces: [
        InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:e0:01", options: InterfaceOptions(
            bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .mib(10), peak: .mib(20), burst: .mib(1)),
                                          outbound: BandwidthRate(average: .kib(512))),
            mtu: 9000, queues: 4)),
        InterfaceModel(source: .bridge("ovs0"), mac: "52:54:00:00:e0:02", options: InterfaceOptions(
            vlan: InterfaceVLAN(tags: [10, 20, 30], trunk: true, native: 20, nativeMode: .tagged),
            virtualPort: VirtualPort(type: .openvswitch, interfaceId: "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f", profileId: "menial"))),
        InterfaceModel(source: .direct(device: "enp1s0f0v3", mode: .passthrough), mac: "52:54:00:00:e0:03",
                       options: InterfaceOptions(vlan: InterfaceVLAN(tags: [7]))),
        InterfaceModel(source: .direct(device: "eth0", mode: .private), mac: "52:54:00:00:e0:04"),
    ])

    @Test("the options and direct sources are written and read back into the same model")
    func roundTrip() throws {
        let files = SpecWriter.files(ImportSet(domains: [ImportedDomain(model: Self.edge, running: true, adopt: false)]))
        let text = try #require(files.first { $0.path.hasSuffix("edge-1.yaml") }?.text, "\(files.map(\.path))")
        for line in ["    bandwidth: {inbound: {average: 10MiB, peak: 20MiB, burst: 1MiB}, outbound: {average: 512KiB}}",
                     "    mtu: 9000", "    queues: 4", "    vlan: {trunk: true, tags: [10, 20, 30], native: 20, nativeMode: tagged}",
                     "    virtualport: {type: openvswitch, interfaceId: \"09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f\", profileId: menial}",
                     "  - direct: {device: enp1s0f0v3, mode: passthrough}", "    vlan: {tag: 7}", "  - direct: {device: eth0, mode: private}"] {
            #expect(text.contains(line), "\(line) is not in:\n\(text)")
        }
        let result = SpecLoader.load(files: files.map { SpecFile(path: $0.path, bytes: Array($0.text.utf8)) })
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)\n\(text)")
        let read = try #require(result.desired?.hosts.first?.domains.first)
        #expect(read.interfaces == Self.edge.interfaces)
    }
}
