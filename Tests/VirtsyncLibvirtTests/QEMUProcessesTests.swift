import Foundation
import Testing
@testable import VirtsyncLibvirt

/// Reading QEMU processes from libvirt's pid files and /proc, with real processes.
@Suite("QEMU processes without libvirt")
struct QEMUProcessesTests {
    @Test("a pid file naming a live process whose command line names the guest is a running guest; a dead pid, another process or no file is not")
    func alive() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-pids-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A stand-in for QEMU: a shell whose $0 is what libvirt passes to -name.
        let guest = Process()
        guest.executableURL = URL(fileURLWithPath: "/bin/sh")
        guest.arguments = ["-c", "sleep 30", "guest=vm-1,debug-threads=on"]
        try guest.run()
        defer { guest.terminate(); guest.waitUntilExit() }
        let other = Process()
        other.executableURL = URL(fileURLWithPath: "/bin/sleep")
        other.arguments = ["30"]
        try other.run()
        defer { other.terminate(); other.waitUntilExit() }
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()

        try "\(guest.processIdentifier)\n".write(toFile: "\(dir)/vm-1.pid", atomically: true, encoding: .utf8)
        try "\(other.processIdentifier)".write(toFile: "\(dir)/vm-2.pid", atomically: true, encoding: .utf8)
        try "\(dead.processIdentifier)".write(toFile: "\(dir)/vm-3.pid", atomically: true, encoding: .utf8)
        try "garbage".write(toFile: "\(dir)/vm-4.pid", atomically: true, encoding: .utf8)
        // Wait until the shell runs (its command line is there once it has started).
        for _ in 0..<50 where !((try? String(contentsOfFile: "/proc/\(guest.processIdentifier)/cmdline", encoding: .utf8)) ?? "").contains("guest=") {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = QEMUProcesses(runDirectory: dir).alive(["vm-1", "vm-2", "vm-3", "vm-4", "vm-5", "vm"])
        #expect(seen == ["vm-1": true, "vm-2": false, "vm-3": false, "vm-4": false, "vm-5": false, "vm": false])
        #expect(QEMUProcesses(uri: "qemu:///system")?.runDirectory == "/run/libvirt/qemu")
        #expect(QEMUProcesses(uri: "qemu:///session") == nil && QEMUProcesses(uri: "qemu+ssh://h/system") == nil)
    }
}
