import Testing
import VirtsyncCore
import VirtsyncSpec

/// `mtu`, `uplink`, mode `open`, `bandwidth` and `portgroups` of a network, and `portgroup` of a VM
/// interface, in the spec: decoding, and mistakes reported at their keys with file and line.
@Suite("network MTU, uplink, bandwidth and port groups in the spec")
struct NetworkLinkSpecTests {
    private func load(_ extra: String, mode: String = "nat", vm: String? = nil) -> SpecLoadResult {
        var text = """
            apiVersion: virtsync/v1
            kind: Network
            name: lab
            mode: \(mode)
            ipv4:
              address: 192.168.103.1/24
            \(extra)
            """
        if let vm {
            text += "\n---\napiVersion: virtsync/v1\nkind: VirtualMachine\nname: web-1\nmemory: 64MiB\ninterfaces:\n  - \(vm)\n"
        }
        return SpecLoader.load(files: [SpecFile(path: "net.yaml", bytes: Array(text.utf8))])
    }

    @Test("mtu, uplink, bandwidth and port groups reach the model; port groups by name")
    func decodes() throws {
        let result = load("""
            mtu: 9000
            uplink: eth0
            bandwidth:
              inbound: {average: 1000KiB, peak: 2000KiB, burst: 512KiB}
              outbound: {average: 500KiB}
            portgroups:
              - {name: web, default: true, bandwidth: {inbound: {average: 100KiB}}}
              - {name: db}
            """, vm: "{network: lab, portgroup: web}")
        let net = try #require(result.desired?.hosts.first?.networks.first, "\(result.diagnostics)")
        #expect(result.diagnostics.description.isEmpty, "\(result.diagnostics)")
        #expect(net.mtu == 9000 && net.uplink == "eth0")
        #expect(net.bandwidth == InterfaceBandwidth(inbound: BandwidthRate(average: .kib(1000), peak: .kib(2000), burst: .kib(512)),
                                                    outbound: BandwidthRate(average: .kib(500))))
        #expect(net.portgroups == [NetworkPortgroup(name: "db"),
                                   NetworkPortgroup(name: "web", isDefault: true, bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(100))))])
        let vm = try #require(result.desired?.hosts.first?.domains.first)
        #expect(vm.interfaces.first?.options?.portgroup == "web")
    }

    @Test("parts left out stay open; mode open needs ipv4 like nat and routed")
    func leftOutAndOpen() throws {
        let bare = try #require(load("").desired?.hosts.first?.networks.first)
        #expect(bare.mtu == nil && bare.uplink == nil && bare.bandwidth == nil && bare.portgroups == nil)
        let open = try #require(load("", mode: "open").desired?.hosts.first?.networks.first)
        #expect(open.mode == .open)
        let text = SpecLoader.load(files: [SpecFile(path: "o.yaml", bytes: Array("apiVersion: virtsync/v1\nkind: Network\nname: o\nmode: open\n".utf8))])
            .diagnostics.description
        #expect(text.contains("o.yaml:4:1: error: Network[o].ipv4: missing required key 'ipv4': an open network forwards for its subnet"), "\(text)")
    }

    @Test("an MTU out of range, an uplink where the mode takes none, a floor, bandwidth or mtu in bridge mode are reported with file and line")
    func mistakes() {
        var text = load("mtu: 67").diagnostics.description
        #expect(text.contains("net.yaml:7:6: error: Network[lab].mtu: 67 is out of range"), "\(text)")
        text = load("mtu: 65536").diagnostics.description
        #expect(text.contains("net.yaml:7:6: error: Network[lab].mtu:"), "\(text)")
        text = load("uplink: eth0", mode: "open").diagnostics.description
        #expect(text.contains("net.yaml:7:1: error: Network[lab].uplink: 'uplink' applies to a nat or routed network (libvirt's <forward dev>); an open network has none"), "\(text)")
        text = load("uplink: eth0", mode: "isolated").diagnostics.description
        #expect(text.contains("Network[lab].uplink: 'uplink' applies to a nat or routed network"), "\(text)")
        text = load("uplink: 'eth/0'").diagnostics.description
        #expect(text.contains("net.yaml:7:9: error: Network[lab].uplink:") && text.contains("device name"), "\(text)")
        text = load("bandwidth: {inbound: {average: 1000KiB, floor: 100KiB}}").diagnostics.description
        #expect(text.contains("net.yaml:7:41: error: Network[lab].bandwidth.inbound.floor: 'floor' is not allowed on a network"), "\(text)")
        text = load("bandwidth: {outbound: {average: 1000B}}").diagnostics.description
        #expect(text.contains("Network[lab].bandwidth.outbound.average: libvirt shapes traffic in whole KiB"), "\(text)")
        text = SpecLoader.load(files: [SpecFile(path: "b.yaml", bytes: Array("""
            apiVersion: virtsync/v1
            kind: Network
            name: lan
            mode: bridge
            bridge: br0
            mtu: 9000
            bandwidth: {inbound: {average: 1MiB}}
            uplink: eth0
            """.utf8))]).diagnostics.description
        #expect(text.contains("b.yaml:6:6: error: Network[lan].mtu: 'mtu' is not allowed in bridge mode"), "\(text)")
        #expect(text.contains("b.yaml:7:1: error: Network[lan].bandwidth: 'bandwidth' is not allowed in bridge mode"), "\(text)")
        #expect(text.contains("b.yaml:8:1: error: Network[lan].uplink: 'uplink' applies to a nat or routed network"), "\(text)")
    }

    @Test("port groups: unique names, one default, VLANs only on an Open vSwitch bridge, with file and line")
    func portgroupMistakes() {
        let text = load("""
            portgroups:
              - {name: web, default: true}
              - {name: web}
              - {name: db, default: true}
              - {name: 'a b'}
              - {default: false}
              - {name: tagged, vlan: {tag: 42}}
            """).diagnostics.description
        #expect(text.contains("net.yaml:9:12: error: Network[lab].portgroups[1].name: port group web is declared twice (first at net.yaml:8:12)"), "\(text)")
        #expect(text.contains("net.yaml:10:16: error: Network[lab].portgroups[2].default: only one port group may be the default; another is at net.yaml:8:17"), "\(text)")
        #expect(text.contains("Network[lab].portgroups[3].name: port group name"), "\(text)")
        #expect(text.contains("Network[lab].portgroups[4].name: missing required key 'name'"), "\(text)")
        #expect(text.contains("net.yaml:13:20: error: Network[lab].portgroups[5].vlan: a VLAN in a port group needs a bridge-mode network on Open vSwitch"), "\(text)")
        let ovs = SpecLoader.load(files: [SpecFile(path: "o.yaml", bytes: Array("""
            apiVersion: virtsync/v1
            kind: Network
            name: ovs
            mode: bridge
            bridge: ovsbr0
            portgroups:
              - {name: v42, default: true, vlan: {tag: 42}}
              - {name: trunk, vlan: {trunk: true, tags: [10, 20], native: 10}}
              - {name: bad, vlan: {tag: 4095}}
            xml:
              network: <virtualport type='openvswitch'/>
            """.utf8))])
        let diagnostics = ovs.diagnostics.description
        #expect(diagnostics.contains("o.yaml:9:29: error: Network[ovs].portgroups[2].vlan.tag: 4095 is out of range; expected 1...4094"), "\(diagnostics)")
        #expect(!diagnostics.contains("portgroups[0]") && !diagnostics.contains("portgroups[1]"), "\(diagnostics)")
    }

    @Test("a VM interface's portgroup must be a group of its network when the spec lists them, and needs a network source")
    func interfacePortgroup() {
        var text = load("portgroups: [{name: web}]", vm: "{network: lab, portgroup: wbe}").diagnostics.description
        #expect(text.contains("net.yaml:14:31: error: VirtualMachine[web-1].interfaces[0].portgroup: network lab has no port group 'wbe'; did you mean 'web'?"), "\(text)")
        text = load("", vm: "{network: lab, portgroup: anything}").diagnostics.description
        #expect(text.isEmpty, "a network that leaves portgroups out has libvirt's: \(text)")
        text = load("", vm: "{bridge: br0, portgroup: web}").diagnostics.description
        #expect(text.contains("VirtualMachine[web-1].interfaces[0].portgroup: a port group belongs to a libvirt network"), "\(text)")
    }
}
