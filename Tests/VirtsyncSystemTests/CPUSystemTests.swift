import Foundation
import Testing

/// CPU model, features, topology, pinning (live), NUMA cells, numatune, graphics listen and
/// `power: paused` on a real libvirtd, with a tiny guest (no OS, qboot). Not run here (golden
/// XML and the test driver cover them): huge pages, for which libvirt needs a hugetlbfs mount
/// at daemon start that this shared machine's libvirtd does not have, and memory locking,
/// for which libvirt cannot raise QEMU's RLIMIT_MEMLOCK in this sandbox ("cannot limit
/// locked memory ... Operation not permitted").
@Suite("System: CPU, memory and paused power on a real libvirtd", .serialized,
       .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct CPUSystemTests {
    let uri = System.uri ?? "qemu:///system"
    let tag = "vsc-cpu"

    private func spec(power: String, pins: String, emulator: String, tune: String, listen: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Settings
        owner: system-tests-\(tag)
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(tag)-vm
        vcpus: 2
        memory: 64MiB
        machine: pc
        loader: /usr/share/qemu/qboot.rom
        power: \(power)
        cpu:
          model: {name: qemu64, fallback: forbid}
          features: {require: [sse2], disable: [svm]}
          topology: {sockets: 1, dies: 1, cores: 2, threads: 1}
          pinning:
            vcpus: {\(pins)}
            emulator: "\(emulator)"
        numa:
          cells:
            - {cpus: "0", memory: 32MiB}
            - {cpus: "1", memory: 32MiB}
          tune: {mode: \(tune), nodeset: "0"}
        graphics: {type: vnc, listen: \(listen)}

        """
    }

    @Test("applied, read back, idempotent; pins change live (virsh vcpupin); paused suspends, running resumes")
    func cpuMemoryPaused() throws {
        let state = try System.tempDir("state"), dir = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        func apply() throws -> System.Output {
            let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
            return out
        }
        func quiet() throws {
            let again = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
            #expect(again.status == 0, "the next plan is not empty:\n\(again.stdout)\(again.stderr)")
        }
        func domid() throws -> String { try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        func runState() throws -> String { try System.virsh(["domstate", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

        // Created, started and paused in one apply.
        try System.write(dir, "spec.yaml", spec(power: "paused", pins: "0: \"0\", 1: \"1\"", emulator: "0-1", tune: "strict", listen: "0.0.0.0"))
        let first = try apply()
        #expect(first.stdout.contains("suspend domain \(tag)-vm"), "\(first.stdout)")
        #expect(try runState() == "paused")
        try quiet()

        let xml = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for expected in ["<model fallback='forbid'>qemu64</model>", "<topology sockets='1' dies='1' cores='2' threads='1'/>",
                         "<feature policy='require' name='sse2'/>", "<feature policy='disable' name='svm'/>",
                         "<vcpupin vcpu='0' cpuset='0'/>", "<vcpupin vcpu='1' cpuset='1'/>", "<emulatorpin cpuset='0-1'/>",
                         "<memory mode='strict' nodeset='0'/>", "listen='0.0.0.0'"] {
            #expect(xml.contains(expected), "\(expected) is not in the definition:\n\(xml)")
        }
        #expect(xml.contains("cpus='0' memory='32768'") && xml.contains("cpus='1' memory='32768'"), "\(xml)")

        // Running again: resumed, not restarted.
        let id = try domid()
        try System.write(dir, "spec.yaml", spec(power: "running", pins: "0: \"0\", 1: \"1\"", emulator: "0-1", tune: "strict", listen: "0.0.0.0"))
        let resumed = try apply()
        #expect(resumed.stdout.contains("resume domain \(tag)-vm"), "\(resumed.stdout)")
        #expect(try runState() == "running")
        #expect(try domid() == id)
        try quiet()

        // Pins moved: live, the same QEMU process, and the running guest has them.
        try System.write(dir, "spec.yaml", spec(power: "running", pins: "0: \"1\", 1: \"0\"", emulator: "1", tune: "strict", listen: "0.0.0.0"))
        let plan = try System.virtsync(["plan", dir, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update domain \(tag)-vm  [live]"), "\(plan.stdout)")
        _ = try apply()
        #expect(try domid() == id, "the VM was restarted")
        let pins = try System.virsh(["vcpupin", "\(tag)-vm", "--live"]).stdout
        let rows = pins.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows.contains("0 1") && rows.contains("1 0"), "live pins:\n\(pins)")
        let emulator = try System.virsh(["emulatorpin", "\(tag)-vm", "--live"]).stdout
        // virsh prints "*: 1" on a terminal and the bare set otherwise.
        let emulatorSet = emulator.split(separator: "\n").last.map { $0.replacingOccurrences(of: "*:", with: "").trimmingCharacters(in: .whitespaces) }
        #expect(emulatorSet == "1", "live emulator pin:\n\(emulator)")
        try quiet()

        // A next-boot change (numatune mode, listen) is planned as such and lands in the definition only.
        try System.write(dir, "spec.yaml", spec(power: "running", pins: "0: \"1\", 1: \"0\"", emulator: "1", tune: "preferred", listen: "127.0.0.1"))
        let pending = try apply()
        #expect(pending.stdout.contains("[next-boot]"), "\(pending.stdout)")
        #expect(try domid() == id)
        #expect(try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout.contains("<memory mode='preferred' nodeset='0'/>"))
        try quiet()

        // Paused again from running: one suspend step, then nothing.
        try System.write(dir, "spec.yaml", spec(power: "paused", pins: "0: \"1\", 1: \"0\"", emulator: "1", tune: "preferred", listen: "127.0.0.1"))
        let paused = try apply()
        #expect(paused.stdout.contains("suspend domain \(tag)-vm"), "\(paused.stdout)")
        #expect(try runState() == "paused")
        try quiet()
    }
}
