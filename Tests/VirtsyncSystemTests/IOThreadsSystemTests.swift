import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    @Test("iothreads and virtio-scsi disks reach QEMU on a running guest; a second plan is empty; a new thread count waits for the next boot")
    func ioThreads() async throws {
        let tag = "io\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        func spec(iothreads: Int, scsiThread: Int) throws {
            let vm = """
                ---
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: \(tag)-vm
                memory: 64MiB
                loader: /usr/share/qemu/qboot.rom
                power: running
                iothreads: \(iothreads)
                disks:
                  - volume: \(tag)-pool/os.raw
                    iothread: 1
                  - volume: \(tag)-pool/data.raw
                    bus: virtio-scsi
                    iothread: \(scsiThread)
                    discard: unmap
                """
            try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath,
                                                              volumes: "  - {name: os.raw, size: 16MiB, format: raw}\n  - {name: data.raw, size: 16MiB, format: raw}",
                                                              vms: vm))
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec(iothreads: 2, scsiThread: 2)
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"))
        let xml = try System.virsh(["dumpxml", "\(tag)-vm"]).stdout
        #expect(xml.contains("<iothreads>2</iothreads>") && xml.contains("iothread='1'") && xml.contains("model='virtio-scsi'"), "\(xml)")
        // QEMU itself has the threads: libvirt lists them from the running guest.
        let threads = try System.virsh(["iothreadinfo", "\(tag)-vm"]).stdout
        #expect(threads.contains(" 1 ") && threads.contains(" 2 "), "\(threads)")
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")

        try spec(iothreads: 3, scsiThread: 3)
        let plan = try await Self.virtsyncAsync(["plan", dir] + options)
        #expect(plan.stdout.contains("iothreads") && plan.stdout.contains("[next-boot]"), "\(plan.stdout)")
        let id = try System.virsh(["domid", "\(tag)-vm"]).stdout
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        let config = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        #expect(config.contains("<iothreads>3</iothreads>") && config.contains("<driver iothread='3'/>"), "\(config)")
        let last = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(last.status == 0, "\(last.stdout)\n\(last.stderr)")
        #expect(try System.virsh(["domid", "\(tag)-vm"]).stdout == id, "a next-boot change does not restart the guest")
    }
}
