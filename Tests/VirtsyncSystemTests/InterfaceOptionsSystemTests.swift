import Foundation
import Testing

/// Interface options on a real libvirtd, with a tiny guest (no OS, qboot) on an isolated libvirt
/// network the test creates: MTU and queues on a running guest; bandwidth in the definition, and
/// changed live on a running guest where the kernel can shape (libvirt runs `tc` with htb, sfq
/// and an ingress police filter; a kernel without sfq or the police action, such as this
/// machine's, cannot start a shaped guest at all, so that test is skipped with its reason).
/// VLANs, an Open vSwitch virtual port and macvtap (`direct`) are defined and read back but
/// not started: starting them needs Open vSwitch or a physical network device, which this
/// machine does not have (and the tests create no interface in the host's namespace).
@Suite("System: interface options on a real libvirtd", .serialized,
       .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct InterfaceOptionsSystemTests {
    let uri = System.uri ?? "qemu:///system"
    let tag = "vsc-nic"
    let mac = "52:54:00:5c:01:01"

    private func spec(power: String, interfaces: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-net
        mode: isolated
        autostart: false
        ipv4:
          address: 10.219.147.1/24
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(tag)-vm
        vcpus: 2
        memory: 64MiB
        machine: pc
        loader: /usr/share/qemu/qboot.rom
        power: \(power)
        interfaces:
        \(interfaces)

        """
    }

    /// `virsh domiftune` as name → value (`inbound.average` → `1024`).
    private func domiftune(_ extra: [String]) throws -> [String: String] {
        let out = try System.virsh(["domiftune", "\(tag)-vm", mac] + extra).stdout
        var values: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    private func apply(_ dir: String, _ state: String) throws -> System.Output {
        let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        return out
    }

    private func quiet(_ dir: String, _ state: String) throws {
        let again = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "the next plan is not empty:\n\(again.stdout)\(again.stderr)")
    }

    private func domid() throws -> String { try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    private func nic(mtu: Int, queues: Int, bandwidth: String? = nil) -> String {
        """
          - network: \(tag)-net
            mac: "\(mac)"
            mtu: \(mtu)
            queues: \(queues)
        """ + (bandwidth.map { "\n    bandwidth: \($0)" } ?? "")
    }

    @Test("MTU and queues reach the running guest and its tap device; a second plan is empty; a change waits for the next boot")
    func mtuAndQueues() throws {
        let state = try System.tempDir("state"), dir = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(dir, "spec.yaml", spec(power: "running", interfaces: nic(mtu: 9000, queues: 2)))
        _ = try apply(dir, state)
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"))
        let xml = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for expected in ["<mtu size='9000'/>", "queues='2'"] {
            #expect(xml.contains(expected), "\(expected) is not in the definition:\n\(xml)")
        }
        // The host's end of the running guest's NIC has the MTU (read only).
        let tap = try System.virsh(["domiflist", "\(tag)-vm"]).stdout.split(separator: "\n")
            .first { $0.contains(mac) }?.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init)
        let link = try System.run("/usr/sbin/ip", ["-o", "link", "show", tap ?? "none"]).stdout
        #expect(link.contains("mtu 9000"), "tap \(tap ?? "?"): \(link)")
        try quiet(dir, state)

        let id = try domid()
        try System.write(dir, "spec.yaml", spec(power: "running", interfaces: nic(mtu: 1400, queues: 1)))
        let pending = try apply(dir, state)
        #expect(pending.stdout.contains("[next-boot]") && pending.stdout.contains("interfaces[0]"), "\(pending.stdout)")
        #expect(try domid() == id, "the VM was restarted")
        #expect(try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout.contains("<mtu size='1400'/>"))
        try quiet(dir, state)
    }

    @Test("bandwidth is written to the definition and read back (virsh domiftune --config); a second plan is empty; a change lands in the definition")
    func bandwidthDefined() throws {
        let state = try System.tempDir("state"), dir = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(dir, "spec.yaml", spec(power: "stopped", interfaces: nic(mtu: 9000, queues: 2,
                                                                                 bandwidth: "{inbound: {average: 1MiB, peak: 2MiB, burst: 64KiB}, outbound: {average: 512KiB}}")))
        _ = try apply(dir, state)
        let xml = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for expected in ["<inbound average='1024' peak='2048' burst='64'/>", "<outbound average='512'/>"] {
            #expect(xml.contains(expected), "\(expected) is not in the definition:\n\(xml)")
        }
        let config = try domiftune(["--config"])
        #expect(config["inbound.average"] == "1024" && config["inbound.peak"] == "2048" && config["outbound.average"] == "512", "\(config)")
        try quiet(dir, state)
        try System.write(dir, "spec.yaml", spec(power: "stopped", interfaces: nic(mtu: 9000, queues: 2, bandwidth: "{inbound: {average: 2MiB}}")))
        let changed = try apply(dir, state)
        #expect(changed.stdout.contains("interfaces[0].bandwidth"), "\(changed.stdout)")
        let after = try domiftune(["--config"])
        #expect(after["inbound.average"] == "2048" && after["inbound.peak"] == "0" && after["outbound.average"] == "0", "\(after)")
        try quiet(dir, state)
    }

    @Test("new shaping on a running guest is set live (the same QEMU process) and shown by virsh domiftune, live and in the definition",
          .enabled(if: InterfaceOptionsSystemTests.kernelShapes(), "this kernel lacks the sfq qdisc or the police action that libvirt's tc shaping uses"))
    func bandwidthLive() throws {
        let state = try System.tempDir("state"), dir = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(dir, "spec.yaml", spec(power: "running", interfaces: nic(mtu: 9000, queues: 2,
                                                                                 bandwidth: "{inbound: {average: 1MiB, peak: 2MiB, burst: 64KiB}, outbound: {average: 512KiB}}")))
        _ = try apply(dir, state)
        let live = try domiftune([])
        #expect(live["inbound.average"] == "1024" && live["inbound.peak"] == "2048" && live["outbound.average"] == "512", "\(live)")
        try quiet(dir, state)

        // New shaping: live; a direction the spec drops is no longer shaped.
        let id = try domid()
        try System.write(dir, "spec.yaml", spec(power: "running", interfaces: nic(mtu: 9000, queues: 2, bandwidth: "{inbound: {average: 2MiB}}")))
        let plan = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update domain \(tag)-vm  [live]") && plan.stdout.contains("interfaces[0].bandwidth"), "\(plan.stdout)")
        _ = try apply(dir, state)
        #expect(try domid() == id, "the VM was restarted")
        let changed = try domiftune([])
        #expect(changed["inbound.average"] == "2048" && changed["inbound.peak"] == "0" && changed["outbound.average"] == "0", "\(changed)")
        let config = try domiftune(["--config"])
        #expect(config["inbound.average"] == "2048" && config["outbound.average"] == "0", "\(config)")
        try quiet(dir, state)
    }

    /// Whether this kernel has what libvirt's shaping runs (`tc ... htb`, `sfq`, an ingress
    /// `police` filter), tried on the loopback of a network namespace made for the purpose.
    static func kernelShapes() -> Bool {
        let namespace = "vsc-nic-probe-\(UUID().uuidString.prefix(8).lowercased())"
        guard (try? System.run("/usr/sbin/ip", ["netns", "add", namespace]).status) == 0 else { return false }
        defer { _ = try? System.run("/usr/sbin/ip", ["netns", "del", namespace]) }
        let script = "tc qdisc add dev lo root handle 1: htb default 1 && tc class add dev lo parent 1: classid 1:1 htb rate 1024kbps"
            + " && tc qdisc add dev lo parent 1:1 handle 2: sfq perturb 10 && tc qdisc add dev lo ingress"
            + " && tc filter add dev lo parent ffff: protocol all u32 match u32 0 0 police rate 512kbps burst 512kb mtu 64kb drop flowid :1"
        return (try? System.run("/usr/sbin/ip", ["netns", "exec", namespace, "/bin/sh", "-c", script]).status) == 0
    }

    @Test("an Open vSwitch trunk and macvtap ports are defined and read back (not started: no Open vSwitch, no spare NIC); a second plan is empty")
    func definedOnly() throws {
        let state = try System.tempDir("state"), dir = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        func apply() throws {
            let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        }
        func quiet() throws {
            let again = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
            #expect(again.status == 0, "the next plan is not empty:\n\(again.stdout)\(again.stderr)")
        }
        func interfaces(native: Int) -> String {
            """
              - bridge: \(tag)-ovs
                mac: "\(mac)"
                virtualport: {type: openvswitch, profileId: lab}
                vlan: {trunk: true, tags: [10, 20, 30], native: \(native), nativeMode: tagged}
              - direct: {device: \(tag)-vf0, mode: passthrough}
                vlan: {tag: 7}
              - direct: {device: \(tag)-eth, mode: bridge}
                queues: 2
                bandwidth: {outbound: {average: 1MiB}}
            """
        }
        try System.write(dir, "spec.yaml", spec(power: "stopped", interfaces: interfaces(native: 10)))
        try apply()
        let xml = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for expected in ["<vlan trunk='yes'>", "<tag id='10' nativeMode='tagged'/>", "<virtualport type='openvswitch'>", "profileid='lab'",
                         "<interface type='direct'>", "<source dev='\(tag)-vf0' mode='passthrough'/>", "<tag id='7'/>",
                         "<source dev='\(tag)-eth' mode='bridge'/>"] {
            #expect(xml.contains(expected), "\(expected) is not in the definition:\n\(xml)")
        }
        // libvirt generated the port's ID: it is no drift, and an update keeps it.
        let portID = xml.split(separator: "\n").first { $0.contains("interfaceid=") }
        #expect(portID != nil, "\(xml)")
        try quiet()
        try System.write(dir, "spec.yaml", spec(power: "stopped", interfaces: interfaces(native: 20)))
        try apply()
        let updated = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        #expect(updated.contains("<tag id='20' nativeMode='tagged'/>"), "\(updated)")
        #expect(portID.map { updated.contains($0) } == true, "the port ID changed:\n\(updated)")
        try quiet()
    }
}
