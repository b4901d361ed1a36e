import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    @Test("disk options reach QEMU; a second plan is empty; new I/O limits are set live on the running guest")
    func diskOptions() async throws {
        let tag = "sd\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        func spec(_ iotune: String) throws {
            let vm = """
                ---
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: \(tag)-vm
                memory: 64MiB
                loader: /usr/share/qemu/qboot.rom
                power: running
                disks:
                  - volume: \(tag)-pool/data.raw
                    cache: writeback
                    io: threads
                    discard: unmap
                    detectZeroes: unmap
                    serial: \(tag)-data
                    iotune: \(iotune)
                """
            try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath,
                                                              volumes: "  - {name: data.raw, size: 32MiB, format: raw}", vms: vm))
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec("{totalIops: 500, readBytesPerSecond: 50MiB}")
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let xml = try System.virsh(["dumpxml", "\(tag)-vm"]).stdout
        #expect(xml.contains("cache='writeback'") && xml.contains("io='threads'") && xml.contains("discard='unmap'")
                && xml.contains("detect_zeroes='unmap'") && xml.contains("<serial>\(tag)-data</serial>"), "\(xml)")
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")

        try spec("{totalIops: 800}")
        let plan = try await Self.virtsyncAsync(["plan", dir] + options)
        #expect(plan.stdout.contains("[live]") && plan.stdout.contains("disks[0].iotune"), "\(plan.stdout)")
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        let live = try System.virsh(["blkdeviotune", "\(tag)-vm", "vda"]).stdout
        #expect(live.contains("total_iops_sec : 800") && live.contains("read_bytes_sec : 0"), "\(live)")
        let config = try System.virsh(["blkdeviotune", "\(tag)-vm", "vda", "--config"]).stdout
        #expect(config.contains("total_iops_sec : 800"), "\(config)")
        let last = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(last.status == 0, "\(last.stdout)\n\(last.stderr)")
    }
}
