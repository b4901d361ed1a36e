import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    /// A loop device with an ext4 file system, attached for one test and detached after it.
    struct LoopFileSystem {
        let image: String
        let device: String

        init(_ tag: String) throws {
            image = "/tmp/\(tag).img"
            try System.run("/usr/bin/truncate", ["-s", "64M", image])
            let attached = try System.run("/usr/sbin/losetup", ["-f", "--show", image])
            guard attached.status == 0 else { throw LoopError(message: "losetup: \(attached.stderr)") }
            device = attached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let made = try System.run("/usr/sbin/mkfs.ext4", ["-q", "-F", device])
            guard made.status == 0 else { throw LoopError(message: "mkfs.ext4: \(made.stderr)") }
        }

        struct LoopError: Error { let message: String }

        func remove() {
            _ = try? System.run("/usr/sbin/losetup", ["-d", device])
            try? FileManager.default.removeItem(atPath: image)
        }
    }

    @Test("an fs pool on a loop device: libvirt mounts it, a volume is made in it and grown live through its running VM; a second plan is empty")
    func fsPool() async throws {
        let tag = "fp\(UUID().uuidString.prefix(6).lowercased())"
        let dir = try System.tempDir(tag), state = try System.tempDir("\(tag)-state")
        let mount = "/tmp/\(tag)-mnt"
        let loop = try LoopFileSystem(tag)
        defer {
            try? System.cleanup(stateDir: state, tag: tag)
            loop.remove()
            try? FileManager.default.removeItem(atPath: mount)
        }
        func spec(size: String) throws {
            try System.write(dir, "spec.yaml", """
                apiVersion: virtsync/v1
                kind: Settings
                owner: system-tests-\(tag)
                ---
                apiVersion: virtsync/v1
                kind: StoragePool
                name: \(tag)-pool
                type: fs
                path: \(mount)
                source: {device: \(loop.device), format: ext4}
                volumes:
                  - {name: data.raw, size: \(size), format: raw}

                """ + Self.tinyVM("\(tag)-vm", disk: "\(tag)-pool/data.raw"))
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec(size: "8MiB")
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let xml = try System.virsh(["pool-dumpxml", "\(tag)-pool"]).stdout
        #expect(xml.contains("type='fs'") && xml.contains("<device path='\(loop.device)'/>") && xml.contains("<format type='ext4'/>"), "\(xml)")
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        #expect(mounts.contains("\(loop.device) \(mount) ext4"), "libvirt mounted the device")
        #expect(FileManager.default.fileExists(atPath: "\(mount)/data.raw"))
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"))
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")

        try spec(size: "16MiB")
        let plan = try await Self.virtsyncAsync(["plan", dir] + options)
        #expect(plan.stdout.contains("grown live through running domain \(tag)-vm"), "\(plan.stdout)")
        let grow = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(grow.status == 0, "\(grow.stdout)\n\(grow.stderr)")
        let info = try System.virsh(["domblkinfo", "\(tag)-vm", "vda"]).stdout
        #expect(info.contains("Capacity:       16777216"), "\(info)")
        let last = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(last.status == 0, "\(last.stdout)\n\(last.stderr)")
    }
}
