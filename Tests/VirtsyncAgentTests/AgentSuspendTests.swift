import Foundation
import Testing
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncTesting
import VirtsyncTestSupport

/// `virtsync suspend` and `virtsync resume` against a real agent process (libvirt's test driver).
@Suite("agent suspend and resume (test driver)", .enabled(if: VirtsyncBinary.isBuilt))
struct AgentSuspendTests {
    @Test("a suspended agent plans nothing, stays suspended across a restart, shows it everywhere, and applies again on resume")
    func suspendResume() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let vm = "\(h.tag)-vm"
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm(vm)])
        try h.start()
        await h.waitFor("the first commit applied") { $0.lastApplied?.commit == first }

        let suspend = try await VirtsyncBinary.run(["suspend", "--config", h.configPath, "--reason", "disk swap & more"])
        #expect(suspend.status == 0, "\(suspend.stdout)\(suspend.stderr)")
        #expect(suspend.stdout.hasPrefix("suspended since "))
        #expect(suspend.stdout.contains(": disk swap & more"))
        #expect(!suspend.stdout.contains("not reached"), "the agent itself took it: \(suspend.stdout)")

        let second = try await h.commit("more memory", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
        #expect(try await h.webhook().status == 202)
        let skipped = await h.waitFor("a suspended pass") { $0.passes.first?.trigger == .webhook && $0.passes.first?.outcome == .suspended }
        let pass = skipped?.passes.first
        #expect(pass?.reason == "Suspended")
        #expect(pass?.planned == [:], "nothing planned while suspended")
        #expect(pass?.enforcedCommit == nil)
        #expect(skipped?.lastApplied?.commit == first)
        #expect(skipped?.suspended?.reason == "disk swap & more")
        #expect(skipped?.conditions[.reconciling]?.reason == "Suspended")

        let scrape = Exposition(String(decoding: try await h.http("GET", "/metrics").body, as: UTF8.self))
        let lint = try await scrape.promtool()
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")
        #expect(scrape.value("virtsync_suspended") == 1)
        #expect((scrape.value("virtsync_passes_total", ["outcome": "suspended"]) ?? 0) >= 1)
        let text = try await VirtsyncBinary.run(["status", "--config", h.configPath])
        #expect(text.stdout.contains("Suspended:  since "), "\(text.stdout)")
        #expect(text.stdout.contains(": disk swap & more"))

        // The suspension is a file in the state directory: a restarted agent is still suspended.
        h.stop()
        try h.start()
        let restarted = await h.waitFor("the restarted agent's first pass, suspended") {
            $0.passes.first?.trigger == .startup && $0.passes.first?.outcome == .suspended
        }
        #expect(restarted?.suspended?.reason == "disk swap & more")
        #expect(restarted?.lastApplied?.commit == first)

        let resume = try await VirtsyncBinary.run(["resume", "--config", h.configPath])
        #expect(resume.status == 0, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stdout.hasPrefix("resumed (suspended since "))
        let applied = await h.waitFor("the second commit applied after resume") { $0.lastApplied?.commit == second }
        #expect(applied?.suspended == nil)
        #expect(Exposition(String(decoding: try await h.http("GET", "/metrics").body, as: UTF8.self)).value("virtsync_suspended") == 0)
    }

    @Test("with no agent running, suspend and resume change the state file themselves, and status shows it")
    func offline() async throws {
        let h = try await AgentHarness(uri: "test:///default")
        defer { h.stop() }
        let first = try await h.commit("first", ["vms/vm.yaml": TinySpec.vm("\(h.tag)-vm")])
        try h.start()
        await h.waitFor("applied") { $0.lastApplied?.commit == first }
        h.stop()

        let suspend = try await VirtsyncBinary.run(["suspend", "--config", h.configPath, "--reason", "offline"])
        #expect(suspend.status == 0, "\(suspend.stdout)\(suspend.stderr)")
        #expect(suspend.stdout.contains("suspended since "))
        #expect(suspend.stdout.contains("the agent was not reached"))
        let file = AgentFiles(stateDirectory: h.stateDir).suspension
        #expect(try AgentSuspension.read(path: file)?.reason == "offline")
        let status = try await VirtsyncBinary.run(["status", "--config", h.configPath])
        #expect(status.stdout.contains("NOT RUNNING"))
        #expect(status.stdout.contains("Suspended:  since "), "\(status.stdout)")

        let resume = try await VirtsyncBinary.run(["resume", "--config", h.configPath])
        #expect(resume.status == 0, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stdout.hasPrefix("resumed (suspended since "))
        #expect(try AgentSuspension.read(path: file) == nil)
        let again = try await VirtsyncBinary.run(["resume", "--config", h.configPath])
        #expect(again.stdout.hasPrefix("not suspended"))
    }
}
