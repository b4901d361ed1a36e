import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncTestSupport

/// The agent against the real libvirtd that scripts/test.sh starts (VIRTSYNC_SYSTEM_URI), with
/// tiny guests that sit in their firmware. Serialized: one test restarts libvirtd.
@Suite("agent on a real libvirtd", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"] != nil && VirtsyncBinary.isBuilt))
struct AgentSystemTests {
    static var uri: String { ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"] ?? "qemu:///system" }

    @Test("virsh destroy of a managed VM is repaired within seconds through the lifecycle event")
    func destroyIsRepaired() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let vm = "\(h.tag)-vm"
            let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm(vm, power: "running")])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }
            #expect(await h.domainState(vm) == "running")

            #expect(try await h.virsh("destroy", vm).succeeded)
            let destroyed = Date()
            #expect(await h.waitUntil("running again", timeout: 15) { await h.domainState(vm) == "running" })
            let seconds = Date().timeIntervalSince(destroyed)
            #expect(seconds < 5, "repaired in \(seconds) s; the interval is 1 h, so only the event can have done it")
            let status = await h.waitFor("the repair pass recorded") { $0.passes.contains { $0.trigger == .event && $0.drift > 0 } }
            let repair = status?.passes.first { $0.trigger == .event && $0.drift > 0 }
            #expect(repair?.planned == ["start": 1])
            #expect(repair?.triggerDetail?.contains(vm) == true)
            #expect(try await h.virsh("dumpxml", vm).stdout.contains(first), "the marker still carries the commit")
        }
    }

    @Test("a managed network destroyed by hand is started again through its event; an unmanaged one is left alone")
    func networkIsRepaired() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let net = "\(h.tag)-net"
            let foreign = "\(h.tag)-foreign"
            let xml = h.scratch.path("foreign.xml")
            try Data("<network><name>\(foreign)</name></network>".utf8).write(to: URL(fileURLWithPath: xml))
            #expect(try await h.virsh("net-define", xml).succeeded)
            #expect(try await h.virsh("net-start", foreign).succeeded)
            let first = try await h.commit("first", ["net.yaml": TinySpec.network(net)])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }
            func active(_ name: String) async -> Bool { (try? await h.virsh("net-info", name).stdout.contains("Active:         yes")) ?? false }
            #expect(await active(net))

            #expect(try await h.virsh("net-destroy", net).succeeded)
            #expect(try await h.virsh("net-destroy", foreign).succeeded)
            #expect(await h.waitUntil("the managed network active again", timeout: 15) { await active(net) })
            try await Task.sleep(for: .seconds(1))
            #expect(await !active(foreign), "an unmanaged network is never started")
            let repair = await h.status()?.passes.first { $0.trigger == .event && $0.drift > 0 }
            #expect(repair?.planned == ["start": 1])
        }
    }

    @Test("a VM that keeps crashing is restarted up to its limit, then left stopped and reported")
    func crashLoopLimit() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let vm = "\(h.tag)-vm"
            let spec = TinySpec.vm(vm, power: "running") + "restartPolicy: on-failure\nmaxRestarts: 2\nrestartWindow: 10m\n"
            let first = try await h.commit("first", ["vms/vm.yaml": spec])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }
            for round in 1...2 {
                #expect(try await h.virsh("destroy", vm).succeeded)
                #expect(await h.waitUntil("restart \(round)", timeout: 15) { await h.domainState(vm) == "running" })
            }
            #expect(try await h.virsh("destroy", vm).succeeded)
            let limited = await h.waitFor("the restart limit reported") { $0.conditions[.ready]?.reason == "RestartLimitReached" }
            #expect(limited?.restartLimited["local/\(vm)"]?.contains("restarted 2 times") == true)
            #expect(limited?.conditions[.ready]?.reason == "RestartLimitReached")
            try await Task.sleep(for: .seconds(2))
            #expect(await h.domainState(vm) == "shut off", "not restarted a third time")
            let metrics = String(decoding: try await h.http("GET", "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("virtsync_vm_restarts_total 2"))
            #expect(metrics.contains("virtsync_restart_limited_vms 1"))

            // Someone starts it by hand: the limit is lifted.
            #expect(try await h.virsh("start", vm).succeeded)
            _ = try await h.reconcileNow()
            let lifted = await h.waitFor("limit lifted") { $0.restartLimited.isEmpty }
            #expect(lifted?.conditions[.ready]?.status == true)
        }
    }

    @Test("kill -9 of the agent in the middle of an apply, then a restart, converges with nothing duplicated")
    func killNineMidApply() async throws {
        let h = try await AgentHarness(uri: Self.uri, timing: "interval: 1h\n  debounce: 200ms\n  backoff: {initial: 1s, max: 2s}\n  parallel: 1")
        try await h.tearingDown {
            var files: [String: String] = ["net.yaml": TinySpec.network("\(h.tag)-net")]
            for i in 0..<8 { files["vms/vm\(i).yaml"] = TinySpec.vm("\(h.tag)-vm\(i)", power: "running") }
            let first = try await h.commit("eight VMs", files)
            try h.start()
            #expect(await h.waitUntil("the first steps done", timeout: 30) { h.log.components(separatedBy: "step done").count > 3 })
            h.killHard()
            let done = h.log.components(separatedBy: "step done").count - 1
            #expect(done < 17, "killed mid-apply (\(done) of 17 steps done)")

            try h.start()
            let converged = await h.waitFor("converged after the restart", timeout: 60) { $0.lastApplied?.commit == first }
            #expect(converged?.conditions[.ready]?.status == true)
            let domains = try await h.virsh("list", "--all", "--name").stdout.split(separator: "\n").filter { $0.hasPrefix(h.tag) }
            #expect(domains.count == 8 && Set(domains).count == 8)
            let running = try await h.virsh("list", "--name").stdout.split(separator: "\n").filter { $0.hasPrefix(h.tag) }
            #expect(running.count == 8)
            let again = try await h.reconcileNow()
            #expect(again?.outcome == .converged, "a second pass plans nothing: \(again?.plannedSummary ?? "")")
        }
    }

    @Test("restarting libvirtd under the agent is survived: it reconnects and repairs again",
          .enabled(if: FileManager.default.fileExists(atPath: LibvirtDaemon.pidFile),
                   "needs the libvirtd that scripts/libvirtd-up.sh starts (a systemd-managed one is not restarted by tests)"))
    func libvirtdRestart() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let vm = "\(h.tag)-vm"
            let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm(vm, power: "running")])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }

            try await LibvirtDaemon.restart()
            #expect(await h.waitUntil("the agent saw the connection close", timeout: 20) { h.log.contains("libvirt connection closed") })
            #expect(await h.waitUntil("libvirtd answers", timeout: 60) { try await h.virsh("version").succeeded })
            #expect(await h.waitUntil("reconnected", timeout: 30) { h.log.components(separatedBy: "connected to libvirt").count > 2 })

            #expect(try await h.virsh("destroy", vm).succeeded)
            #expect(await h.waitUntil("repaired after the restart", timeout: 15) { await h.domainState(vm) == "running" })
            #expect(h.agent?.isRunning == true)
        }
    }
}

/// The libvirtd that scripts/libvirtd-up.sh started.
enum LibvirtDaemon {
    /// Stops libvirtd (SIGTERM; SIGKILL after 20 s) and starts it again with the project's script.
    /// Where scripts/libvirtd-up.sh keeps the daemon's pid.
    static let pidFile = "/run/virtsync/libvirtd.pid"

    static func restart() async throws {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGTERM)
            var waited = 0
            while kill(pid, 0) == 0 && waited < 200 {
                try await Task.sleep(for: .milliseconds(100))
                waited += 1
            }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/libvirtd-up.sh").path
        // posix_spawn with a cleared signal mask (ChildProcess), not Foundation's Process: the
        // daemons the script starts inherit the mask, and a libvirtd with SIGTERM blocked could
        // not be stopped again. Output goes to a file, so no pipe stays open behind the daemons.
        let log = NSTemporaryDirectory() + "virtsync-libvirtd-up-\(getpid()).log"
        let child = try ChildProcess(executable: "/bin/bash", arguments: [script], environment: ProcessInfo.processInfo.environment, outputPath: log)
        var waited = 0
        while child.isRunning && waited < 1200 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        guard let status = child.status, status == 0 else {
            throw FixtureError(command: [script], status: child.status ?? -1, stderr: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
    }
}
