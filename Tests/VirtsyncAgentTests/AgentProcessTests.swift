import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncAgent
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting
import VirtsyncTestSupport

/// The agent as a process against libvirt's test driver (in the agent's own process) and a real
/// git repository: no daemon needed, so these run everywhere.
@Suite("agent process (test driver)", .enabled(if: VirtsyncBinary.isBuilt))
struct AgentProcessTests {
    @Test("the agent applies the head, picks up a pushed commit through the webhook, and a second pass plans nothing")
    func followsCommits() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let vm = "\(h.tag)-vm"
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm(vm), "net.yaml": TinySpec.network("\(h.tag)-net")])
        try h.start()
        let applied = await h.waitFor("the first commit applied") { $0.lastApplied?.commit == first }
        #expect(applied?.conditions[.ready]?.status == true)
        #expect(applied?.passes.last?.trigger == .startup)
        #expect(applied?.passes.last?.planned == ["create": 2])

        #expect(try await h.http("POST", "/webhook", headers: ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)], body: [1]).status == 401)
        let second = try await h.commit("more memory", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
        #expect(try await h.webhook().status == 202)
        let updated = await h.waitFor("the second commit applied") { $0.lastApplied?.commit == second }
        // The first apply's own libvirt events may bring a pass that fetches the new commit
        // before the webhook's pass does: one of them applies it, the webhook's sees it.
        #expect(updated?.passes.contains { $0.enforcedCommit == second && $0.planned == ["update": 1] } == true)
        let latest = await h.status()
        #expect(updated?.passes.contains { $0.trigger == .webhook && $0.enforcedCommit == second } == true
                || latest?.passes.contains { $0.trigger == .webhook && $0.enforcedCommit == second } == true)

        let again = try await h.reconcileNow()
        #expect(again?.outcome == .converged, "idempotence: nothing left to do")
        #expect(again?.trigger == .manual)
        #expect(again?.drift == 0)
    }

    @Test("an invalid commit is never applied: the last good one stays enforced and Stalled names file and line")
    func invalidCommitStalls() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let vm = "\(h.tag)-vm"
        let good = try await h.commit("good", ["vms/vm.yaml": TinySpec.vm(vm)])
        try h.start()
        await h.waitFor("the good commit applied") { $0.lastApplied?.commit == good }
        let bad = try await h.commit("bad", ["vms/vm.yaml": TinySpec.vm(vm, memory: "lots")])
        _ = try await h.webhook()
        let stalled = await h.waitFor("Stalled") { $0.conditions[.stalled]?.status == true }
        let condition = stalled?.conditions[.stalled]
        #expect(condition?.reason == "InvalidSpec")
        #expect(condition?.message.contains("vms/vm.yaml:5") == true, "file and line: \(condition?.message ?? "")")
        #expect(stalled?.lastApplied?.commit == good)
        #expect(stalled?.passes.first?.headCommit == bad)
        #expect(stalled?.passes.first?.enforcedCommit == good, "the last good commit is still enforced")
        #expect(stalled?.conditions[.ready]?.status == false)

        let cli = try await VirtsyncBinary.run(["status", "--config", h.configPath])
        #expect(cli.status == 2, "status exits 2 when not ready")
        #expect(cli.stdout.contains("Stalled      True   InvalidSpec"))
        #expect(cli.stdout.contains("vms/vm.yaml:5"))

        // A stalled agent does not retry the bad commit in a loop. The good apply's own libvirt
        // events may still bring one pass (slow under load): let that settle first, then a
        // retry loop (backoff 1 s to 2 s) would show within three seconds.
        let quiet = await h.waitForQuiet(for: 1.5)
        #expect(quiet?.passes.contains { $0.trigger == .retry } == false, "a refusal is not retried")
        try await Task.sleep(for: .seconds(3))
        #expect(await h.status()?.passes.first?.id == quiet?.passes.first?.id)

        let fixed = try await h.commit("fixed", ["vms/vm.yaml": TinySpec.vm(vm, memory: "64MiB")])
        _ = try await h.webhook()
        let recovered = await h.waitFor("the fixed commit applied") { $0.lastApplied?.commit == fixed }
        #expect(recovered?.conditions[.stalled]?.status == false)
        #expect(recovered?.conditions[.ready]?.status == true)
    }

    @Test("metrics are served in Prometheus text format and count passes, steps and managed resources")
    func metricsScrape() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm("\(h.tag)-vm"), "net.yaml": TinySpec.network("\(h.tag)-net")])
        try h.start()
        await h.waitFor("applied") { $0.lastApplied?.commit == first }
        _ = try await h.reconcileNow()
        let response = try await h.http("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let scrape = Exposition(String(decoding: response.body, as: UTF8.self))
        let lint = try await scrape.promtool()
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? { scrape.value(name, labels) }
        #expect(value("virtsync_build_info", ["version": VirtsyncVersion.current]) == 1)
        #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((value("process_start_time_seconds") ?? 0) > 1_700_000_000)
        #expect(value("process_open_fds") != nil && value("process_cpu_seconds_total") != nil)
        #expect(value("virtsync_passes_total", ["outcome": "applied"]) == 1)
        // At least the manual pass; the creates' own libvirt events may have added one more.
        let converged = value("virtsync_passes_total", ["outcome": "converged"]) ?? 0
        #expect(converged >= 1)
        #expect(value("virtsync_pass_duration_seconds_count") == 1 + converged)
        #expect(value("virtsync_steps_total", ["action": "create", "outcome": "succeeded"]) == 2)
        #expect(value("virtsync_managed_resources", ["kind": "domain", "state": "shutoff"]) == 1)
        #expect(value("virtsync_managed_resources", ["kind": "network", "state": "active"]) == 1)
        #expect(value("virtsync_ready") == 1)
        #expect(value("virtsync_drift_resources") == 0)
        #expect((value("virtsync_last_applied_commit_timestamp_seconds") ?? 0) > 1_700_000_000)
        #expect(try await h.http("GET", "/healthz").status == 200)
        #expect(try await h.http("GET", "/readyz").status == 200)
        #expect(try await h.http("GET", "/nope").status == 404)
        #expect(try await h.http("GET", "/reconcile").status == 405)
    }

    @Test("reconcile --now and status work from the command line; SIGTERM stops the agent cleanly and history survives a restart")
    func cliAndRestart() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm("\(h.tag)-vm")])
        try h.start()
        await h.waitFor("applied") { $0.lastApplied?.commit == first }

        let now = try await VirtsyncBinary.run(["reconcile", "--now", "--wait", "--config", h.configPath])
        #expect(now.status == 0, "\(now.stderr)")
        #expect(now.stdout.contains(": converged (Converged)"))
        let text = try await VirtsyncBinary.run(["status", "--config", h.configPath])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Ready        True"))
        #expect(text.stdout.contains("running (pid"))
        let json = try await VirtsyncBinary.run(["status", "--state-dir", h.stateDir, "--json"])
        #expect(json.stdout.contains("\"lastApplied\""))

        let second = try ChildProcess(executable: VirtsyncBinary.path, arguments: ["agent", "--config", h.configPath],
                                      environment: VirtsyncBinary.environment(), outputPath: h.scratch.path("second.log"))
        let refused = await h.waitUntil("the second agent exits") { !second.isRunning }
        #expect(refused)
        #expect(((try? String(contentsOfFile: h.scratch.path("second.log"), encoding: .utf8)) ?? "").contains("only one agent runs per state directory"))

        let started = Date()
        h.stop()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(h.log.contains("agent stopped"))
        let after = try await VirtsyncBinary.run(["status", "--state-dir", h.stateDir])
        #expect(after.stdout.contains("NOT RUNNING"))

        // The stopped agent's last word is its status file (its HTTP endpoint is gone: reading
        // `/status` here gave nil, and the wait below then took the restarted process's copy
        // of the old history for its first pass).
        let before = try AgentStatus.read(path: AgentFiles(stateDirectory: h.stateDir).status)
        try h.start()
        // The old history alone must not satisfy the wait: a new process, and its own first pass.
        // Pass ids go on growing across restarts: the new process's passes come after the old ones.
        let lastID = before.passes.map(\.id).max() ?? 0
        let restarted = await h.waitFor("a pass after the restart") {
            $0.pid != before.pid && ($0.passes.first?.id ?? 0) > lastID
        }
        // Its first pass is a startup pass (event passes may follow: the test driver lives in
        // the agent's process, so the restarted agent re-creates the VM and sees its events).
        let fresh = restarted?.passes.filter { $0.id > lastID }
        #expect(fresh?.last?.id == lastID + 1)
        #expect(fresh?.last?.trigger == .startup, "\(fresh?.map(\.trigger) ?? [])")
        #expect(restarted?.lastApplied?.commit == first)
    }

    @Test("as a service group: READY for systemd once running, STATUS= after each pass, SIGHUP runs a pass at once, SIGTERM sends STOPPING and stops cleanly")
    func serviceGroup() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let receiver = try DatagramReceiver(address: h.scratch.path("notify.sock"))
        // The STATUS= line after each pass comes whenever a pass ends: kept aside, in order.
        var statuses: [String] = []
        func next() throws -> String {
            while true {
                let message = try receiver.receive()
                guard message.hasPrefix("STATUS=") else { return message }
                statuses.append(message)
            }
        }
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm("\(h.tag)-vm")])
        try h.start(extraEnvironment: ["NOTIFY_SOCKET": receiver.address])
        #expect(try next().hasPrefix("READY=1"))
        await h.waitFor("applied") { $0.lastApplied?.commit == first }

        h.signal(SIGHUP)
        #expect(try next().hasPrefix("RELOADING=1"))
        #expect(try next() == "READY=1")
        let reloaded = await h.waitFor("a pass triggered by SIGHUP") { $0.passes.contains { $0.trigger == .signal } }
        #expect(reloaded?.passes.first { $0.trigger == .signal }?.triggerDetail == "SIGHUP")

        let started = Date()
        h.stop()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try next() == "STOPPING=1")
        #expect(h.log.contains("agent stopped"))
        // The first pass applied the VM; the later ones (SIGHUP, the VM's own events) found nothing to do.
        #expect(statuses.first?.hasPrefix("STATUS=applied \(first.prefix(7)) (1 step); next pass in ") == true, "\(statuses)")
        #expect(statuses.dropFirst().contains { $0.hasPrefix("STATUS=converged \(first.prefix(7)); next pass in ") }, "\(statuses)")
    }

    @Test("a broken configuration file is refused with file, line and field, and the agent does not start")
    func badConfig() async throws {
        let scratch = try ScratchDirectory(prefix: "agent-config")
        let path = scratch.path("agent.yaml")
        try Data("apiVersion: virtsync/v1\nkind: AgentConfig\nhost: local\nsource:\n  repo: /tmp/x\nreconcile:\n  interval: 10\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let result = try await VirtsyncBinary.run(["agent", "--config", path, "--check"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("agent.yaml:7"), "\(result.stderr)")
        #expect(result.stderr.contains("reconcile.interval"))
    }
}
