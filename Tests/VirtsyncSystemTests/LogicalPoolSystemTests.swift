import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    /// An LVM volume group on a loop device, made by the test (virtsync never makes one), removed after it.
    struct LoopVolumeGroup {
        let image: String
        let device: String
        let group: String

        init(_ tag: String) throws {
            image = "/tmp/\(tag)-pv.img"
            group = "\(tag)vg"
            try System.run("/usr/bin/truncate", ["-s", "64M", image])
            let attached = try System.run("/usr/sbin/losetup", ["-f", "--show", image])
            guard attached.status == 0 else { throw LoopFileSystem.LoopError(message: "losetup: \(attached.stderr)") }
            device = attached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            for (tool, arguments) in [("pvcreate", ["-q", device]), ("vgcreate", ["-q", group, device])] {
                let made = try System.run("/usr/sbin/\(tool)", arguments)
                guard made.status == 0 else { throw LoopFileSystem.LoopError(message: "\(tool): \(made.stderr)") }
            }
        }

        func remove() {
            _ = try? System.run("/usr/sbin/vgremove", ["-q", "-f", group])
            _ = try? System.run("/usr/sbin/pvremove", ["-q", device])
            _ = try? System.run("/usr/sbin/losetup", ["-d", device])
            try? FileManager.default.removeItem(atPath: image)
        }

        /// Whether the kernel can make logical volumes (device-mapper): not in every VM or container.
        static var deviceMapper: Bool { (try? System.run("/usr/sbin/dmsetup", ["version"]).status) == 0 }
    }

    @Test("a logical pool over a volume group on a loop device: started by libvirt, a second plan is empty; a volume is made where device-mapper exists, and otherwise fails and is planned again")
    func logicalPool() async throws {
        let tag = "lp\(UUID().uuidString.prefix(6).lowercased())"
        let dir = try System.tempDir(tag), state = try System.tempDir("\(tag)-state")
        let group = try LoopVolumeGroup(tag)
        defer {
            try? System.cleanup(stateDir: state, tag: tag)
            group.remove()
        }
        func spec(volumes: String) throws {
            try System.write(dir, "spec.yaml", """
                apiVersion: virtsync/v1
                kind: Settings
                owner: system-tests-\(tag)
                ---
                apiVersion: virtsync/v1
                kind: StoragePool
                name: \(tag)-pool
                type: logical
                volumeGroup: \(group.group)
                devices: [\(group.device)]
                autostart: false
                \(volumes)
                """)
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec(volumes: "")
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let xml = try System.virsh(["pool-dumpxml", "\(tag)-pool"]).stdout
        #expect(xml.contains("type='logical'") && xml.contains("<device path='\(group.device)'/>") && xml.contains("<name>\(group.group)</name>"), "\(xml)")
        #expect(try System.virsh(["pool-info", "\(tag)-pool"]).stdout.contains("running"))
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")

        try spec(volumes: "volumes:\n  - {name: lv1, size: 8MiB}")
        let create = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        let next = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        if LoopVolumeGroup.deviceMapper {
            #expect(create.status == 0, "\(create.stdout)\n\(create.stderr)")
            #expect(try System.virsh(["vol-list", "\(tag)-pool"]).stdout.contains("lv1"))
            #expect(next.status == 0, "\(next.stdout)\n\(next.stderr)")
        } else {
            // No device-mapper here: lvcreate fails, the step reports it, nothing half-made counts.
            #expect(create.status != 0, "\(create.stdout)\n\(create.stderr)")
            #expect((create.stdout + create.stderr).contains("lv1"), "\(create.stdout)\n\(create.stderr)")
            #expect(next.status == 2 && next.stdout.contains("create volume \(tag)-pool/lv1"), "\(next.stdout)\n\(next.stderr)")
        }
    }
}
