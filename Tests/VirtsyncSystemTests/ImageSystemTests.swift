import Crypto
import Foundation
import Testing
import VirtsyncTestImageServer
import VirtsyncTestSupport

/// Volumes made from OS images on a real libvirtd: a qcow2 made here by qemu-img, served over
/// HTTP on loopback, streamed into a pool through libvirt, used as the base of a running guest's
/// disk; a wrong checksum and a broken download.
// Part of the serialized system suite.
extension SystemTests {
    /// Runs the virtsync binary without blocking a thread (the image server of this process must
    /// keep serving meanwhile).
    static func virtsyncAsync(_ arguments: [String]) async throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["VIRTSYNC_SHUTDOWN_TIMEOUT"] = "0"
        environment["VIRTSYNC_HOSTS_DIR"] = System.hostsDir
        return try await Command.run(System.virtsyncPath, arguments, environment: environment, timeout: .seconds(600))
    }

    /// The spec, state, image cache and pool directories of an image test.
    static func imageDirectories(_ tag: String) throws -> (String, String, String, String) {
        (try System.tempDir(tag), try System.tempDir("\(tag)-state"), try System.tempDir("\(tag)-cache"), "/tmp/\(tag)-pool")
    }

    /// Removes what an image test made (its owner's resources through virtsync, then its files).
    static func removeImageTest(tag: String, state: String, cache: String, poolPath: String) {
        try? System.cleanup(stateDir: state, tag: tag)
        try? FileManager.default.removeItem(atPath: poolPath)
        try? FileManager.default.removeItem(atPath: cache)
    }

    static func imageSpec(tag: String, poolPath: String, volumes: String, vms: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: StoragePool
        name: \(tag)-pool
        path: \(poolPath)
        volumes:
        \(volumes)
        \(vms)
        """
    }

    static func tinyVM(_ name: String, disk: String) -> String {
        """
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(name)
        memory: 64MiB
        loader: /usr/share/qemu/qboot.rom
        power: running
        disks:
          - volume: \(disk)
        """
    }

    @Test("a volume made from an image over HTTP holds exactly the image, a guest runs on an overlay of it, and a second plan is empty")
    func imageVolume() async throws {
        let tag = "si\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        let scratch = try ScratchDirectory(prefix: tag)
        let image = try await ImageFixture.qcow2(in: scratch, virtual: "96M")
        let server = try await ImageServer.start()
        defer { Task { await server.stop() } }
        server.serve("base.qcow2", image.bytes)
        // The first download breaks off; the retry resumes it.
        server.set(.init(breakFirst: 1, breakAfterBytes: 700 * 1024))
        let volumes = """
              - name: base
                format: qcow2
                image: {url: "\(server.url("base.qcow2"))", sha256: \(image.sha)}
              - name: base.raw
                size: 128MiB
                format: raw
                image: {url: "\(server.url("base.qcow2"))", sha256: \(image.sha), format: qcow2}
              - name: root.qcow2
                size: 256MiB
                format: qcow2
                backing: \(tag)-pool/base
            """
        try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath, volumes: volumes,
                                                          vms: Self.tinyVM("\(tag)-vm", disk: "\(tag)-pool/root.qcow2")))
        let options = ["--connect", uri, "--state-dir", state]
        let plan = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(plan.status == 2, "\(plan.stdout)\n\(plan.stderr)")
        #expect(plan.stdout.contains("image: \(server.url("base.qcow2"))") && plan.stdout.contains("sha256: \(image.sha.prefix(12))"),
                "\(plan.stdout)")
        #expect(plan.stdout.contains("size: as the image") && plan.stdout.contains("format: raw (converted from qcow2)"), "\(plan.stdout)")

        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve", "--image-cache", cache] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        // Byte for byte the image, as large as the image says.
        let base = [UInt8](try Data(contentsOf: URL(fileURLWithPath: poolPath + "/base")))
        #expect(ImageFixture.sha(base) == image.sha)
        let info = try System.virsh(["vol-info", "--bytes", "--pool", "\(tag)-pool", "base"]).stdout
        #expect(info.contains("\(96 << 20) bytes"), "\(info)")
        let raw = try System.virsh(["vol-info", "--bytes", "--pool", "\(tag)-pool", "base.raw"]).stdout
        #expect(raw.contains("\(128 << 20) bytes"), "\(raw)")
        let check = try await Command.run("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", poolPath + "/base", poolPath + "/base.raw"])
        #expect(check.status == 0 || check.stdout.contains("Warning: Image size mismatch!"), "\(check.stdout)\(check.stderr)")
        #expect(try System.names(["list", "--name"]).contains("\(tag)-vm"))
        let ranges = server.requests.map(\.range)
        #expect(ranges.count == 2 && ranges[0] == nil && ranges[1]?.hasPrefix("bytes=") == true, "\(ranges)")

        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(server.requests.count == 2)
    }

    @Test("a wrong checksum fails that volume's step only: nothing is made from the file, its VM is not created, the rest is")
    func imageWrongChecksum() async throws {
        let tag = "sj\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        let scratch = try ScratchDirectory(prefix: tag)
        let image = try await ImageFixture.qcow2(in: scratch, virtual: "64M")
        let server = try await ImageServer.start()
        defer { Task { await server.stop() } }
        server.serve("base.qcow2", image.bytes)
        let wrong = String(repeating: "0", count: 64)
        let volumes = """
              - name: base
                format: qcow2
                image: {url: "\(server.url("base.qcow2"))", sha256: \(wrong)}
              - name: data.qcow2
                size: 16MiB
            """
        try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath, volumes: volumes,
                                                          vms: Self.tinyVM("\(tag)-vm", disk: "\(tag)-pool/base")))
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve", "--connect", uri, "--state-dir", state, "--image-cache", cache])
        #expect(apply.status == 1, "\(apply.stdout)\n\(apply.stderr)")
        #expect(apply.stdout.contains("FAILED  create volume \(tag)-pool/base") && apply.stdout.contains("has sha256 \(image.sha), the spec says \(wrong)"),
                "\(apply.stdout)")
        #expect(apply.stdout.contains("skipped create domain \(tag)-vm"), "\(apply.stdout)")
        let volumesNow = try System.names(["vol-list", "--pool", "\(tag)-pool"]).joined(separator: " ")
        #expect(volumesNow.contains("data.qcow2") && !volumesNow.contains("base "), "\(volumesNow)")
        #expect(!(try System.names(["list", "--all", "--name"]).contains("\(tag)-vm")))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache + "/sha256")) ?? []).filter { !$0.hasSuffix(".lock") }.isEmpty)
    }
}

extension SystemTests {
    @Test("a grown volume of a running guest is grown live through the guest: the guest's disk is larger at once, and the next plan is empty")
    func growLive() async throws {
        let tag = "sg\(UUID().uuidString.prefix(6).lowercased())"
        let (dir, state, cache, poolPath) = try Self.imageDirectories(tag)
        defer { Self.removeImageTest(tag: tag, state: state, cache: cache, poolPath: poolPath) }
        func spec(_ size: String) throws {
            try System.write(dir, "spec.yaml", Self.imageSpec(tag: tag, poolPath: poolPath,
                                                              volumes: "  - {name: root.qcow2, size: \(size), format: qcow2}",
                                                              vms: Self.tinyVM("\(tag)-vm", disk: "\(tag)-pool/root.qcow2")))
        }
        let options = ["--connect", uri, "--state-dir", state]
        try spec("64MiB")
        let first = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        try spec("96MiB")
        let plan = try await Self.virtsyncAsync(["plan", dir] + options)
        #expect(plan.stdout.contains("grown live through running domain \(tag)-vm"), "\(plan.stdout)")
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        let info = try System.virsh(["domblkinfo", "\(tag)-vm", "vda"]).stdout
        #expect(info.contains("Capacity:       \(96 << 20)"), "\(info)")
        #expect(try System.names(["list", "--name"]).contains("\(tag)-vm"))
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
    }
}

/// Test images made with qemu-img.
enum ImageFixture {
    static func qcow2(in scratch: ScratchDirectory, virtual: String) async throws -> (bytes: [UInt8], sha: String) {
        let raw = scratch.path("data.raw")
        var data = [UInt8](repeating: 0, count: 2 << 20)
        for i in data.indices { data[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 11) }
        _ = FileManager.default.createFile(atPath: raw, contents: Data(data))
        let path = scratch.path("base.qcow2")
        let made = try await Command.run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, path])
        #expect(made.succeeded, "\(made.stderr)")
        let resized = try await Command.run("qemu-img", ["resize", "-f", "qcow2", path, virtual])
        #expect(resized.succeeded, "\(resized.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (bytes, sha(bytes))
    }

    static func sha(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
}
