import Testing
import VirtsyncCore
import VirtsyncSpec

/// `ipv6` of a network in the spec: decoding into canonical form, and every mistake reported at
/// its key with file and line.
@Suite("network IPv6 in the spec")
struct NetworkIPv6SpecTests {
    private func load(_ ipv6: String, mode: String = "nat", extra: String = "") -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: Network
            name: lab6
            mode: \(mode)
            ipv4:
              address: 192.168.101.1/24
            \(ipv6)
            """ + extra
        return SpecLoader.load(files: [SpecFile(path: "net.yaml", bytes: Array(text.utf8))])
    }

    @Test("address, ranges and hosts reach the model in canonical form")
    func decodes() throws {
        let result = load("""
            ipv6:
              address: FD00:10:1:0::1/64
              dhcp:
                ranges:
                  - {start: "fd00:10:1::200", end: "fd00:10:1::2ff"}
                  - {start: "fd00:10:1:0:0:0:0:100", end: "fd00:10:1::1ff"}
                hosts:
                  - {id: "0:3:0:1:52:54:0:10:0:1", name: web-1, ip: "fd00:10:1::10"}
                  - {name: db-1, ip: "fd00:10:1::11"}
            """)
        let net = try #require(result.desired?.hosts.first?.networks.first, "\(result.diagnostics)")
        #expect(result.diagnostics.description.isEmpty, "\(result.diagnostics)")
        #expect(net.ipv6 == IPv6Config(address: "fd00:10:1::1", prefix: 64,
                                       dhcpRanges: [DHCPRange(start: "fd00:10:1::100", end: "fd00:10:1::1ff"),
                                                    DHCPRange(start: "fd00:10:1::200", end: "fd00:10:1::2ff")],
                                       hosts: [DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:1", name: "web-1", ip: "fd00:10:1::10"),
                                               DHCPv6Host(name: "db-1", ip: "fd00:10:1::11")]))
        #expect(net.ipv6?.dhcpRanges.first?.start == "fd00:10:1::100")
    }

    @Test("a network without ipv6 leaves it open")
    func leftOut() throws {
        let result = load("")
        let net = try #require(result.desired?.hosts.first?.networks.first, "\(result.diagnostics)")
        #expect(net.ipv6 == nil)
    }

    @Test("ranges and hosts outside the prefix, reversed or overlapping ranges, MACs and duplicates are reported with file and line")
    func mistakes() {
        let result = load("""
            ipv6:
              address: fd00:10:1::1/64
              dhcp:
                ranges:
                  - {start: "fd00:10:2::100", end: "fd00:10:2::1ff"}
                  - {start: "fd00:10:1::1ff", end: "fd00:10:1::100"}
                  - {start: "fd00:10:1::100", end: "fd00:10:1::1ff"}
                  - {start: "fd00:10:1::180", end: "fd00:10:1::2ff"}
                hosts:
                  - {mac: "52:54:00:00:00:01", ip: "fd00:10:1::10"}
                  - {name: web-1, ip: "fd00:99::10"}
                  - {ip: "fd00:10:1::12"}
                  - {id: "zz:1", ip: "fd00:10:1::13"}
                  - {name: a, ip: "fd00:10:1::14"}
                  - {name: b, ip: "fd00:10:1:0::14"}
            """)
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("net.yaml:11:17: error: Network[lab6].ipv6.dhcp.ranges[0].start: fd00:10:2::100 is outside the network's prefix fd00:10:1::/64"), "\(text)")
        #expect(text.contains("net.yaml:12:40: error: Network[lab6].ipv6.dhcp.ranges[1].end: DHCPv6 range end fd00:10:1::100 is before its start fd00:10:1::1ff"), "\(text)")
        #expect(text.contains("net.yaml:14:17: error: Network[lab6].ipv6.dhcp.ranges[3].start: DHCPv6 range fd00:10:1::180-fd00:10:1::2ff overlaps the range fd00:10:1::100-fd00:10:1::1ff at net.yaml:13:17"), "\(text)")
        #expect(text.contains("net.yaml:16:10: error: Network[lab6].ipv6.dhcp.hosts[0].mac: an IPv6 static host has no MAC"), "\(text)")
        #expect(text.contains("net.yaml:17:27: error: Network[lab6].ipv6.dhcp.hosts[1].ip: fd00:99::10 is outside the network's prefix fd00:10:1::/64"), "\(text)")
        #expect(text.contains("error: Network[lab6].ipv6.dhcp.hosts[2].id: an IPv6 static host needs 'id' (the client's DUID) or 'name'"), "\(text)")
        #expect(text.contains("net.yaml:19:14: error: Network[lab6].ipv6.dhcp.hosts[3].id: 'zz:1' is not a DUID"), "\(text)")
        #expect(text.contains("net.yaml:21:23: error: Network[lab6].ipv6.dhcp.hosts[5].ip: address fd00:10:1:0::14 has another lease at net.yaml:20:23"), "\(text)")
    }

    @Test("a bad address, a prefix out of range, ipv6 in bridge mode and overlapping prefixes of two networks are reported")
    func badAddress() {
        #expect(load("ipv6: {address: fd00::1}").diagnostics.description
            .contains("net.yaml:7:17: error: Network[lab6].ipv6.address: 'fd00::1' is not an IPv6 address with a prefix"))
        #expect(load("ipv6: {address: \"fd00::1/128\"}").diagnostics.description.contains("prefix /128 is out of range; expected 1...127"))
        let bridge = SpecLoader.load(files: [SpecFile(path: "net.yaml", bytes: Array("""
            apiVersion: virtsync/v1
            kind: Network
            name: lan
            mode: bridge
            bridge: br0
            ipv6: {address: "fd00::1/64"}
            """.utf8))])
        #expect(bridge.diagnostics.description.contains("net.yaml:6:1: error: Network[lan].ipv6: 'ipv6' is not allowed in bridge mode"), "\(bridge.diagnostics)")
        let two = load("ipv6: {address: \"fd00:10:1::1/64\"}", extra: """

            ---
            apiVersion: virtsync/v1
            kind: Network
            name: other
            mode: isolated
            ipv6: {address: "fd00:10::1/32"}
            """)
        #expect(two.diagnostics.description.contains("net.yaml:13:17: error: Network[other].ipv6.address: prefix fd00:10::/32 overlaps fd00:10:1::/64 of Network[lab6] on host local"), "\(two.diagnostics)")
    }
}
