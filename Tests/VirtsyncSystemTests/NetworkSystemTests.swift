import Foundation
import Testing

/// Networks on a real libvirtd: IPv6 with DHCPv6 is defined and started, reads back without
/// drift, and a static DHCPv6 host is added to the running network in place (`virNetworkUpdate`),
/// in its live and its persistent definition, without restarting it. Addresses: 10.219.240.0/24
/// and the unique local prefix fd00:219:240::/64, on an isolated network (no traffic leaves it).
@Suite("System: networks", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct NetworkSystemTests {
    let uri = System.uri ?? "qemu:///system"
    static let tag = "vsn-net"
    static let bridge = "vsn240br"

    static func spec(extraHosts: String = "") -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-6
        mode: isolated
        bridge: \(bridge)
        ipv4:
          address: 10.219.240.1/24
          dhcp: {start: 10.219.240.100, end: 10.219.240.199}
        ipv6:
          address: fd00:219:240::1/64
          dhcp:
            ranges:
              - {start: "fd00:219:240::100", end: "fd00:219:240::1ff"}
            hosts:
              - {id: "0:3:0:1:52:54:0:21:92:40", name: web-1, ip: "fd00:219:240::10"}\(extraHosts)
        """
    }

    private func run(_ command: String, _ dir: String, _ state: String, _ extra: [String] = []) throws -> (Int32, String) {
        let out = try System.virtsync([command, dir, "--connect", uri, "--state-dir", state] + extra)
        return (out.status, out.stdout + out.stderr)
    }

    /// The kernel's index of the network's bridge: a restarted network gets a new bridge device.
    private func bridgeIndex() -> String? {
        try? String(contentsOfFile: "/sys/class/net/\(Self.bridge)/ifindex", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("IPv6 with DHCPv6 applies and reads back without drift; a DHCPv6 host is added live, in the running and the persistent definition")
    func ipv6RoundTrip() throws {
        let state = try System.tempDir("net6-state")
        let dir = try System.tempDir("net6-spec")
        try System.write(dir, "spec.yaml", Self.spec())
        defer { try? System.cleanup(stateDir: state, tag: Self.tag) }
        let name = "\(Self.tag)-6"

        var (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        let live = try System.virsh(["net-dumpxml", name]).stdout
        #expect(live.contains("<ip family='ipv6' address='fd00:219:240::1' prefix='64'>"), "\(live)")
        #expect(live.contains("<range start='fd00:219:240::100' end='fd00:219:240::1ff'/>"), "\(live)")
        #expect(live.contains("<host id='0:3:0:1:52:54:0:21:92:40' name='web-1' ip='fd00:219:240::10'/>"), "\(live)")
        #expect(try System.names(["net-list", "--name"]).contains(name), "the network is active")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after apply is not empty:\n\(output)")
        let index = bridgeIndex()
        #expect(index != nil, "the network's bridge \(Self.bridge) exists")

        // A new static host: planned live and applied with virNetworkUpdate, the network keeps running.
        try System.write(dir, "spec.yaml", Self.spec(extraHosts: "\n      - {name: db-1, ip: \"fd00:219:240::11\"}"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 2 && output.contains("ipv6.dhcp.hosts[fd00:219:240::11]") && output.contains("update network \(name)  [live]"), "\(output)")
        (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        let host = "<host name='db-1' ip='fd00:219:240::11'/>"
        #expect(try System.virsh(["net-dumpxml", name]).stdout.contains(host), "the running network has the host")
        #expect(try System.virsh(["net-dumpxml", "--inactive", name]).stdout.contains(host), "the definition has the host")
        #expect(bridgeIndex() == index, "the network was not restarted (its bridge is the same device)")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after the live update is not empty:\n\(output)")

        // A new range restarts the network (replace), then the plan is empty again.
        try System.write(dir, "spec.yaml", Self.spec().replacingOccurrences(of: "fd00:219:240::1ff", with: "fd00:219:240::2ff"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 2 && output.contains("ipv6.dhcp.ranges") && output.contains("[replace]"), "\(output)")
        (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        #expect(try System.virsh(["net-dumpxml", name]).stdout.contains("end='fd00:219:240::2ff'"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after the restart is not empty:\n\(output)")
    }

    static func dnsSpec(records: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-dns
        mode: isolated
        bridge: vsn241br
        ipv4:
          address: 10.219.241.1/24
        dns:
          domain: vsn241.test
          localOnly: true
          forwarders:
            - {domain: corp.test}
          hosts:
            - {ip: 10.219.241.5, names: [db, db.vsn241.test]}\(records)
        xml:
          network: |
            <dns>
              <txt name="vsn" value="dns"/>
            </dns>
        """
    }

    @Test("DNS applies and reads back without drift beside raw <txt>; a host record is added live, in the running and the persistent definition")
    func dnsRoundTrip() throws {
        let state = try System.tempDir("netdns-state")
        let dir = try System.tempDir("netdns-spec")
        try System.write(dir, "spec.yaml", Self.dnsSpec(records: ""))
        defer { try? System.cleanup(stateDir: state, tag: Self.tag) }
        let name = "\(Self.tag)-dns"

        var (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        let live = try System.virsh(["net-dumpxml", name]).stdout
        #expect(live.contains("<domain name='vsn241.test' localOnly='yes'/>") && live.contains("<forwarder domain='corp.test'/>")
                && live.contains("<txt name='vsn' value='dns'/>") && live.contains("<hostname>db.vsn241.test</hostname>"), "\(live)")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after apply is not empty:\n\(output)")
        let index = try? String(contentsOfFile: "/sys/class/net/vsn241br/ifindex", encoding: .utf8)

        try System.write(dir, "spec.yaml", Self.dnsSpec(records: "\n    - {ip: 10.219.241.6, names: [cache]}"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 2 && output.contains("dns.hosts[10.219.241.6]") && output.contains("update network \(name)  [live]"), "\(output)")
        (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        for flags in [[String](), ["--inactive"]] {
            let xml = try System.virsh(["net-dumpxml"] + flags + [name]).stdout
            #expect(xml.contains("<host ip='10.219.241.6'>") && xml.contains("<hostname>cache</hostname>"), "\(flags): \(xml)")
        }
        #expect(index != nil && (try? String(contentsOfFile: "/sys/class/net/vsn241br/ifindex", encoding: .utf8)) == index,
                "the network was not restarted")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after the live update is not empty:\n\(output)")
    }
}
