import Foundation
import Testing

/// Networks on a real libvirtd: IPv6 with DHCPv6 is defined and started, reads back without
/// drift, and a static DHCPv6 host is added to the running network in place (`virNetworkUpdate`),
/// in its live and its persistent definition, without restarting it. Addresses: 10.219.240.0/24
/// and the unique local prefix fd00:219:240::/64, on an isolated network (no traffic leaves it).
/// Spec 1.1: a routed network whose uplink is the loopback device (MTU, port groups, a port
/// group changed live), its shaping where the kernel can shape a bridge, and an open network, on
/// 10.219.243.0/24 and 10.219.244.0/24.
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

    /// Whether libvirt can shape a network here: it puts an sfq queue under the bridge's htb
    /// classes, and some kernels lack sfq. Probed on a bridge the probe makes and deletes.
    static let kernelShapesNetworks: Bool = {
        let probe = "vsn245probe"
        guard System.enabled, (try? System.run("/usr/sbin/ip", ["link", "add", probe, "type", "bridge"]).status) == 0 else { return false }
        defer { _ = try? System.run("/usr/sbin/ip", ["link", "del", probe]) }
        return (try? System.run("/usr/sbin/tc", ["qdisc", "add", "dev", probe, "root", "handle", "1:", "sfq"]).status) == 0
    }()

    static func linkSpec(shaping: Bool = false, mtu: Int = 9000, portgroups: String = "    - {name: web, default: true, bandwidth: {inbound: {average: 1MiB}}}\n    - {name: db}") -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-link
        mode: routed
        uplink: lo
        bridge: vsn243br
        mtu: \(mtu)
        ipv4:
          address: 10.219.243.1/24\(shaping ? "\nbandwidth:\n  inbound: {average: 10MiB, peak: 20MiB, burst: 1MiB}\n  outbound: {average: 5MiB}" : "")
        portgroups:
        \(portgroups)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-open
        mode: open
        bridge: vsn244br
        mtu: 1400
        ipv4:
          address: 10.219.244.1/24
        """
    }

    @Test("MTU, uplink and port groups apply and read back without drift; a port group is changed live without restarting the network; a new MTU restarts it")
    func linkRoundTrip() throws {
        // The uplink is the loopback device (this kernel has no dummy links): nothing leaves the host.
        let state = try System.tempDir("netlink-state")
        let dir = try System.tempDir("netlink-spec")
        try System.write(dir, "spec.yaml", Self.linkSpec())
        defer { try? System.cleanup(stateDir: state, tag: Self.tag) }
        let name = "\(Self.tag)-link"

        var (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        let live = try System.virsh(["net-dumpxml", name]).stdout
        #expect(live.contains("dev='lo'") && live.contains("mode='route'") && live.contains("<mtu size='9000'/>"), "\(live)")
        #expect(live.contains("<portgroup name='web' default='yes'>") && live.contains("<portgroup name='db'"), "\(live)")
        let open = try System.virsh(["net-dumpxml", "\(Self.tag)-open"]).stdout
        #expect(open.contains("<forward mode='open'/>") && open.contains("<mtu size='1400'/>"), "\(open)")
        #expect(try System.names(["net-list", "--name"]).isSuperset(of: [name, "\(Self.tag)-open"]), "both networks are active")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after apply is not empty:\n\(output)")
        let index = try? String(contentsOfFile: "/sys/class/net/vsn243br/ifindex", encoding: .utf8)

        // Port groups: web is reshaped and no longer the default, backup is new and the default, db is gone.
        try System.write(dir, "spec.yaml", Self.linkSpec(portgroups: "    - {name: web, bandwidth: {inbound: {average: 2MiB}}}\n    - {name: backup, default: true}"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 2 && output.contains("portgroups[backup]") && output.contains("portgroups[db]") && output.contains("portgroups[web]")
                && output.contains("update network \(name)  [live]"), "\(output)")
        (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        for flags in [[String](), ["--inactive"]] {
            let xml = try System.virsh(["net-dumpxml"] + flags + [name]).stdout
            #expect(xml.contains("<portgroup name='backup' default='yes'") && !xml.contains("<portgroup name='db'")
                    && xml.contains("<inbound average='2048'/>") && !xml.contains("<portgroup name='web' default"), "\(flags): \(xml)")
        }
        #expect(index != nil && (try? String(contentsOfFile: "/sys/class/net/vsn243br/ifindex", encoding: .utf8)) == index,
                "the network was not restarted (its bridge is the same device)")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after the live update is not empty:\n\(output)")

        // A new MTU restarts the network (replace); the bridge device has it.
        try System.write(dir, "spec.yaml", Self.linkSpec(mtu: 1500, portgroups: "    - {name: web, bandwidth: {inbound: {average: 2MiB}}}\n    - {name: backup, default: true}"))
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 2 && output.contains("mtu") && output.contains("[replace]"), "\(output)")
        (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        #expect((try? String(contentsOfFile: "/sys/class/net/vsn243br/mtu", encoding: .utf8))?.hasPrefix("1500") == true)
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after the restart is not empty:\n\(output)")
    }

    @Test("a network's shaping applies and reads back without drift", .enabled(if: NetworkSystemTests.kernelShapesNetworks, "this kernel has no sfq queueing discipline, which libvirt puts under a shaped network's bridge"))
    func shapingRoundTrip() throws {
        let state = try System.tempDir("netqos-state")
        let dir = try System.tempDir("netqos-spec")
        try System.write(dir, "spec.yaml", Self.linkSpec(shaping: true))
        defer { try? System.cleanup(stateDir: state, tag: Self.tag) }
        var (status, output) = try run("apply", dir, state, ["--auto-approve"])
        #expect(status == 0, "\(output)")
        let live = try System.virsh(["net-dumpxml", "\(Self.tag)-link"]).stdout
        #expect(live.contains("<inbound average='10240' peak='20480' burst='1024'/>") && live.contains("<outbound average='5120'/>"), "\(live)")
        (status, output) = try run("plan", dir, state, ["--detailed-exitcode"])
        #expect(status == 0, "the plan after apply is not empty:\n\(output)")
    }
}
