import Foundation

/// Helpers for system tests against a real libvirtd (started by scripts/test.sh, which sets
/// VIRTSYNC_SYSTEM_URI). The tests drive the real `virtsync` binary and check results with
/// `virsh`, an independent client.
enum System {
    static let uri: String? = ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"]
    static var enabled: Bool { uri != nil }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The hosts directory every virtsync run of this test process shares, as the virtsync
    /// instances of one machine do.
    static let hostsDir: String = {
        let dir = NSTemporaryDirectory() + "virtsync-system-hosts-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// The `virtsync` executable built beside the test bundle.
    static var virtsyncPath: String {
        if let p = ProcessInfo.processInfo.environment["VIRTSYNC_BIN"] { return p }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The runner may be inside the .xctest bundle directory.
        if dir.path.hasSuffix(".xctest") || dir.path.contains(".xctest/") {
            while dir.path.contains(".xctest") { dir.deleteLastPathComponent() }
        }
        return dir.appendingPathComponent("virtsync").path
    }

    /// Runs a program with arguments (never through a shell) and waits for it.
    @discardableResult
    static func run(_ executable: String, _ args: [String], stdin: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        // Test guests have no OS to answer an ACPI shutdown: stop them at once.
        // Host inventories and locks of this test process, not the machine's (unless a test
        // names the machine's on purpose).
        p.environment = ProcessInfo.processInfo.environment.merging(["VIRTSYNC_SHUTDOWN_TIMEOUT": "0",
                                                                     "VIRTSYNC_HOSTS_DIR": hostsDir]) { _, new in new }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // Read both pipes fully before waiting so a chatty child cannot block.
        let group = DispatchGroup()
        nonisolated(unsafe) var o = Data(), e = Data()
        group.enter()
        DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        e = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @discardableResult
    static func virtsync(_ args: [String]) throws -> Output { try run(virtsyncPath, args) }

    @discardableResult
    static func virsh(_ args: [String]) throws -> Output {
        try run("/usr/bin/virsh", ["-q", "-c", uri ?? "qemu:///system"] + args)
    }

    /// Lines of a virsh listing.
    static func names(_ args: [String]) throws -> Set<String> {
        Set(try virsh(args).stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// Everything libvirt has, for "nothing changed" checks.
    static func inventory() throws -> String {
        let domains = try virsh(["list", "--all", "--name"]).stdout
        let nets = try virsh(["net-list", "--all", "--name"]).stdout
        let pools = try virsh(["pool-list", "--all", "--name"]).stdout
        return [domains, nets, pools].map { $0.split(separator: "\n").sorted().joined(separator: ",") }.joined(separator: " | ")
    }

    static func tempDir(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "virtsync-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ dir: String, _ name: String, _ text: String) throws {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Removes everything an owner has by applying, as that owner, a spec with only a throwaway
    /// network and pruning on: virtsync cleans up after itself, and only what it owns.
    /// - Parameters:
    ///   - owner: the owner of what to remove; `tinySpec`'s (`system-tests-<tag>`) by default.
    ///   - hostsDir: the hosts directory of the run that created it (this process's by default).
    static func cleanup(stateDir: String, tag: String, owner: String? = nil, hostsDir: String? = nil) throws {
        let dir = try tempDir("cleanup")
        try write(dir, "empty.yaml", """
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-cleanup
        mode: isolated
        autostart: false
        ---
        apiVersion: virtsync/v1
        kind: Settings
        prune: true
        deleteVolumesWithVM: true
        owner: "\(owner ?? "system-tests-\(tag)")"
        """)
        try virtsync(["apply", dir, "--connect", uri ?? "qemu:///system", "--state-dir", stateDir, "--auto-approve", "--allow-mass-delete",
                      "--hosts-dir", hostsDir ?? Self.hostsDir])
        try virsh(["net-destroy", "\(tag)-cleanup"])
        try virsh(["net-undefine", "\(tag)-cleanup"])
    }

    /// A spec of tiny guests (no OS, qboot firmware) in a dir pool and an isolated network.
    static func tinySpec(tag: String, subnet: Int, poolPath: String, vms: Int, memory: String = "64MiB", running: Bool = true, extra: String = "") -> String {
        var s = """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: StoragePool
        name: \(tag)-pool
        type: dir
        path: \(poolPath)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(tag)-net
        mode: isolated
        ipv4:
          address: 10.219.\(subnet).1/24
        """
        for i in 0..<vms {
            s += """

            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm\(i)
            memory: \(memory)
            maxMemory: 128MiB
            loader: /usr/share/qemu/qboot.rom
            power: \(running ? "running" : "stopped")
            disks:
              - volume: \(tag)-pool/\(tag)-vm\(i)-root.qcow2
                size: 64MiB
            interfaces:
              - network: \(tag)-net
            """
        }
        return s + extra + "\n"
    }
}
