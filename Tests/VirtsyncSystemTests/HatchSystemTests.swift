import Foundation
import Testing

/// The escape hatch on a real libvirtd: raw XML for a VM, a network and a pool is applied, read
/// back in canonical form (libvirt's additions are not drift), and a change made behind
/// virtsync's back (`virsh define` of an edited copy) is planned and repaired.
@Suite("System: escape hatch", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct HatchSystemTests {
    let uri = System.uri ?? "qemu:///system"
    static let tag = "vsh-hatch"

    static func spec(poolPath: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: StoragePool
        name: \(tag)-pool
        type: dir
        path: \(poolPath)
        xml:
          pool: |
            <target>
              <permissions>
                <mode>0711</mode>
              </permissions>
            </target>
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-net
        mode: isolated
        ipv4:
          address: 10.219.231.1/24
        xml:
          network: |
            <port isolated="yes"/>
            <dns>
              <txt name="vsh" value="hatch"/>
            </dns>
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(tag)-vm
        memory: 64MiB
        maxMemory: 128MiB
        loader: /usr/share/qemu/qboot.rom
        power: running
        disks:
          - volume: \(tag)-pool/\(tag)-vm-root.qcow2
            size: 64MiB
        interfaces:
          - network: \(tag)-net
        xml:
          domain: |
            <os>
              <bios rebootTimeout="500"/>
            </os>
            <features>
              <acpi/>
              <apic/>
              <pmu state="off"/>
            </features>
            <clock offset="localtime"/>
            <on_crash>restart</on_crash>
          devices: |
            <memballoon model="virtio">
              <stats period="10"/>
            </memballoon>
            <panic model="isa"/>
        """
    }

    /// Runs `plan --detailed-exitcode` and returns its status and output.
    private func plan(_ dir: String, _ state: String) throws -> (Int32, String) {
        let out = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        return (out.status, out.stdout + out.stderr)
    }

    private func apply(_ dir: String, _ state: String) throws {
        let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    }

    /// Defines an edited copy of a definition with virsh, as an operator would with `virsh edit`.
    private func redefine(_ kind: String, _ name: String, _ edit: (String) -> String) throws {
        let dump = try System.virsh([kind == "domain" ? "dumpxml" : "\(kind)-dumpxml", "--inactive", name])
        #expect(dump.status == 0, "\(dump.stderr)")
        let edited = edit(dump.stdout)
        #expect(edited != dump.stdout, "the edit changed nothing")
        let file = try System.tempDir("hatch-edit") + "/\(name).xml"
        try Data(edited.utf8).write(to: URL(fileURLWithPath: file))
        let define = try System.virsh([kind == "domain" ? "define" : "\(kind)-define", file])
        #expect(define.status == 0, "\(define.stderr)")
    }

    @Test("raw XML of a VM, a network and a pool applies, reads back without drift, and an edit behind virtsync's back is planned and repaired")
    func hatchRoundTrip() throws {
        let state = try System.tempDir("hatch-state")
        let dir = try System.tempDir("hatch-spec")
        let poolPath = try System.tempDir("hatch-pool")
        try System.write(dir, "spec.yaml", Self.spec(poolPath: poolPath))
        defer { try? System.cleanup(stateDir: state, tag: Self.tag) }

        try apply(dir, state)
        let vm = "\(Self.tag)-vm"
        let domainXML = try System.virsh(["dumpxml", "--inactive", vm]).stdout
        #expect(domainXML.contains("<bios rebootTimeout='500'/>"), "\(domainXML)")
        #expect(domainXML.contains("<clock offset='localtime'/>") && domainXML.contains("<on_crash>restart</on_crash>"))
        #expect(domainXML.contains("<pmu state='off'/>") && domainXML.contains("<panic model='isa'"))
        #expect(domainXML.contains("hatch-paths=\"os/bios features clock on_crash devices/memballoon devices/panic\""), "\(domainXML)")
        let netXML = try System.virsh(["net-dumpxml", "--inactive", "\(Self.tag)-net"]).stdout
        #expect(netXML.contains("<port isolated='yes'/>") && netXML.contains("<txt name='vsh' value='hatch'/>"), "\(netXML)")
        let poolXML = try System.virsh(["pool-dumpxml", "--inactive", "\(Self.tag)-pool"]).stdout
        #expect(poolXML.contains("<mode>0711</mode>"), "\(poolXML)")

        // libvirt added addresses, defaults and owner/group: none of it is drift.
        var (status, output) = try plan(dir, state)
        #expect(status == 0, "the plan after apply is not empty:\n\(output)")

        // Behind virtsync's back: the VM's clock and the network's port isolation change, the pool's mode too.
        try redefine("domain", vm) { $0.replacingOccurrences(of: "<clock offset='localtime'/>", with: "<clock offset='utc'/>") }
        try redefine("net", "\(Self.tag)-net") { $0.replacingOccurrences(of: "<port isolated='yes'/>", with: "") }
        try redefine("pool", "\(Self.tag)-pool") { $0.replacingOccurrences(of: "<mode>0711</mode>", with: "<mode>0755</mode>") }
        (status, output) = try plan(dir, state)
        #expect(status == 2, "\(output)")
        #expect(output.contains("xml.domain/clock") && output.contains("xml.network/port") && output.contains("xml.pool/target/permissions"), "\(output)")
        #expect(output.contains("update domain \(vm)  [next-boot]") && output.contains("update network \(Self.tag)-net  [restart]")
                && output.contains("update pool \(Self.tag)-pool  [restart]"), "the disruption classes are shown:\n\(output)")
        try apply(dir, state)
        (status, output) = try plan(dir, state)
        #expect(status == 0, "the plan after repairing the drift is not empty:\n\(output)")
        #expect(try System.virsh(["dumpxml", "--inactive", vm]).stdout.contains("<clock offset='localtime'/>"))
        #expect(try System.virsh(["net-dumpxml", "--inactive", "\(Self.tag)-net"]).stdout.contains("<port isolated='yes'/>"))

        // Raw XML dropped from the spec is removed from libvirt, and the plan after that is empty.
        try System.write(dir, "spec.yaml", Self.spec(poolPath: poolPath)
            .replacingOccurrences(of: "    <clock offset=\"localtime\"/>\n", with: "")
            .replacingOccurrences(of: "    <port isolated=\"yes\"/>\n", with: ""))
        (status, output) = try plan(dir, state)
        #expect(status == 2 && output.contains("xml.domain/clock") && output.contains("xml.network/port"), "\(output)")
        try apply(dir, state)
        #expect(!(try System.virsh(["dumpxml", "--inactive", vm]).stdout.contains("localtime")))
        #expect(!(try System.virsh(["net-dumpxml", "--inactive", "\(Self.tag)-net"]).stdout.contains("<port")))
        (status, output) = try plan(dir, state)
        #expect(status == 0, "the plan after removing raw XML is not empty:\n\(output)")
    }

    @Test("a domain defined by the previous version (its marker lists top-level element names) converges without being rewritten")
    func upgradeConverges() throws {
        let tag = "vsh-upg"
        let state = try System.tempDir("upg-state")
        let dir = try System.tempDir("upg-spec")
        let poolPath = try System.tempDir("upg-pool")
        try System.write(dir, "spec.yaml", System.tinySpec(tag: tag, subnet: 232, poolPath: poolPath, vms: 1,
                                                            extra: "\nxml:\n  domain: <clock offset='localtime'/>\n  devices: <panic model='isa'/>"))
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try apply(dir, state)
        let vm = "\(tag)-vm0"
        // What the previous version wrote: the top-level names of each fragment, no hatch-paths.
        try redefine("domain", vm) {
            $0.replacingOccurrences(of: "hatch-paths=\"clock devices/panic\"", with: "extra-domain-elements=\"clock\" extra-device-elements=\"panic\"")
        }
        let (status, output) = try plan(dir, state)
        #expect(status == 0, "a domain of the previous version is planned again:\n\(output)")
        let xml = try System.virsh(["dumpxml", "--inactive", vm]).stdout
        #expect(xml.contains("extra-device-elements=\"panic\"") && !xml.contains("hatch-paths"), "\(xml)")
    }
}
