import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    @Test("a disk and a NIC added to a running guest are hot-plugged: QEMU has them at once, the guest is not restarted, a second plan is empty")
    func hotPlug() async throws {
        let tag = "hp\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        func spec(added: Bool) throws {
            let vm = """
                ---
                apiVersion: virtsync/v1
                kind: Network
                name: \(tag)-net
                mode: isolated
                ---
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: \(tag)-vm
                memory: 64MiB
                loader: /usr/share/qemu/qboot.rom
                power: running
                disks:
                  - volume: \(tag)-pool/os.raw
                \(added ? "  - volume: \(tag)-pool/data.qcow2\n    serial: \(tag)-data" : "")
                interfaces:
                  - network: \(tag)-net
                \(added ? "  - network: \(tag)-net\n    model: virtio" : "")
                """
            try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath,
                                                              volumes: "  - {name: os.raw, size: 16MiB, format: raw}\n  - {name: data.qcow2, size: 32MiB}",
                                                              vms: vm))
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec(added: false)
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let id = try System.virsh(["domid", "\(tag)-vm"]).stdout

        try spec(added: true)
        let plan = try await Self.virtsyncAsync(["plan", dir] + options)
        #expect(plan.stdout.contains("disks[1]") && plan.stdout.contains("interfaces[1]") && plan.stdout.contains("[live]")
                && !plan.stdout.contains("[next-boot]"), "\(plan.stdout)")
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(try System.virsh(["domid", "\(tag)-vm"]).stdout == id, "hot-plugged, not restarted")
        // The running guest (QEMU) has both devices, as the definition has them.
        let live = try System.virsh(["dumpxml", "\(tag)-vm"]).stdout
        let config = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        #expect(live.contains("<target dev='vdb' bus='virtio'/>") && live.contains("<serial>\(tag)-data</serial>"), "\(live)")
        let blocks = try System.virsh(["domblklist", "\(tag)-vm"]).stdout
        #expect(blocks.contains("vdb"), "\(blocks)")
        func macs(_ xml: String) -> [String] {
            xml.components(separatedBy: "<mac address='").dropFirst().compactMap { $0.split(separator: "'").first.map(String.init) }
        }
        #expect(macs(live).count == 2 && macs(live) == macs(config), "live \(macs(live)), definition \(macs(config))")
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
    }
}
