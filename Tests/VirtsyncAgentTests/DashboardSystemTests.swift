import Foundation
import Testing
import VirtsyncCore
import VirtsyncHTTP
import VirtsyncTestSupport

/// The dashboard and the REST API, served both ways, against the real libvirtd that
/// scripts/test.sh starts: an agent, and `virtsync serve` reading the same spec. Checked by a
/// real browser (headless Chromium) and by a property-based API tester (schemathesis) against
/// the OpenAPI document.
@Suite("dashboard and API on a real libvirtd", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"] != nil && VirtsyncBinary.isBuilt && Browser.available))
struct DashboardSystemTests {
    static var uri: String { ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"] ?? "qemu:///system" }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `scripts/api-check.sh URL`: schemathesis against the document; its output on failure.
    static func apiCheck(_ url: String) async throws -> CommandResult {
        try await Command.run("/bin/bash", [root + "/scripts/api-check.sh", url], in: NSTemporaryDirectory(), timeout: .seconds(300))
    }

    static func cluster(_ port: Int) async throws -> ClusterView? {
        let response = try await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: "GET", path: "/api/v1/cluster", timeout: .seconds(10))
        return response.status == 200 ? try ClusterView.decode(Data(response.body)) : nil
    }

    @Test("the agent's dashboard shows its VMs, the plan and a stalled commit's file and line; the API keeps to its document")
    func agentDashboard() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let (on, off) = ("\(h.tag)-web", "\(h.tag)-db")
            let first = try await h.commit("two VMs", ["vms/web.yaml": TinySpec.vm(on, power: "running"), "vms/db.yaml": TinySpec.vm(off)])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }

            let view = try #require(try await Self.cluster(h.port))
            #expect(view.server.kind == "agent" && view.server.host == "local")
            #expect(view.vms.first { $0.name == on }?.power == "running" && view.vms.first { $0.name == off }?.power == "shutoff")
            #expect(view.vms.first { $0.name == on }?.lastStep?.action == "start", "\(view.vms)")
            // Other tests' guests may run on the same libvirtd: they use the host too.
            #expect(view.hosts.first?.reachable == true && (view.hosts.first?.used.memoryMiB ?? 0) >= 32)
            #expect(view.plan.steps.isEmpty, "the steps that ran are no longer the plan: \(view.plan.steps)")
            #expect(view.passes.first?.outcome == "applied" || view.passes.first?.outcome == "converged")

            let artifacts = try Browser.artifacts("agent-dashboard")
            let profile = h.scratch.path("chromium")
            let page = DashboardPage(try await Browser.render(url: "http://127.0.0.1:\(h.port)/", profile: profile,
                                                              screenshot: artifacts + "/agent.png"))
            #expect(page.isReady, "\(page.html.prefix(2000))")
            #expect(page.vms(onHost: "local") == [on, off], "\(page.hosts)")
            #expect(FileManager.default.fileExists(atPath: artifacts + "/agent.png"))

            // A commit with a bad field: the agent stalls, and the page says where.
            let bad = try await h.commit("bad memory", ["vms/db.yaml": TinySpec.vm(off).replacingOccurrences(of: "memory: 32MiB", with: "memory: lots")])
            _ = try await h.reconcileNow()
            await h.waitFor("stalled") { $0.conditions[.stalled]?.status == true }
            let stalled = DashboardPage(try await Browser.render(url: "http://127.0.0.1:\(h.port)/", profile: profile,
                                                                 screenshot: artifacts + "/stalled.png"))
            let banner = stalled.banners(kind: "stalled").first ?? ""
            #expect(banner.contains("vms/db.yaml:") && banner.contains(String(bad.prefix(12))), "\(banner)")
            #expect(stalled.vms(onHost: "local") == [on, off], "the last good commit is still shown as enforced")

            let check = try await Self.apiCheck("http://127.0.0.1:\(h.port)")
            #expect(check.status == 0, "schemathesis against the agent:\n\(check.stdout.suffix(6000))\n\(check.stderr.suffix(2000))")
            #expect(h.log.contains("pass done"))
        }
    }

    @Test("virtsync serve reads the same hosts with reader ports only, shows drift as the plan, and keeps to the document")
    func serveDashboard() async throws {
        let h = try await AgentHarness(uri: Self.uri)
        try await h.tearingDown {
            let vm = "\(h.tag)-app"
            let first = try await h.commit("one VM", ["vms/app.yaml": TinySpec.vm(vm, power: "running")])
            try h.start()
            await h.waitFor("applied") { $0.lastApplied?.commit == first }
            h.stop()
            // The spec now asks for more memory: serve plans it, and never applies it.
            _ = try await h.commit("more memory", ["vms/app.yaml": TinySpec.vm(vm, memory: "48MiB", power: "running")])

            let log = h.scratch.path("serve.log")
            let serve = try ChildProcess(executable: VirtsyncBinary.path,
                                         arguments: ["serve", "--repo", h.git.url, "--listen", "127.0.0.1:0", "--interval", "1",
                                                     "--state-dir", h.scratch.path("serve-state"), "--connect", Self.uri],
                                         environment: VirtsyncBinary.environment(), outputPath: log)
            defer { serve.terminate() }
            var port: Int?
            for _ in 0..<100 where port == nil {
                try await Task.sleep(for: .milliseconds(100))
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                port = text.components(separatedBy: "listening on 127.0.0.1:").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
            }
            let listening = try #require(port, "serve printed its port: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            var view: ClusterView?
            for _ in 0..<50 {
                view = try await Self.cluster(listening)
                if view?.vms.contains(where: { $0.name == vm }) == true { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let seen = try #require(view)
            #expect(seen.server.kind == "serve")
            let app = try #require(seen.vms.first { $0.name == vm })
            #expect(app.power == "running" && app.host == "local" && app.drift.contains { $0.contains("memory") }, "\(app)")
            #expect(seen.plan.steps.contains { $0.name == vm && $0.action == "update" })

            let page = DashboardPage(try await Browser.render(url: "http://127.0.0.1:\(listening)/", profile: h.scratch.path("chromium"),
                                                              screenshot: try Browser.artifacts("serve-dashboard") + "/serve.png"))
            #expect(page.vms(onHost: "local") == [vm])
            #expect(page.html.contains(#"class="step""#) && page.html.contains(vm))

            let check = try await Self.apiCheck("http://127.0.0.1:\(listening)")
            #expect(check.status == 0, "schemathesis against serve:\n\(check.stdout.suffix(6000))\n\(check.stderr.suffix(2000))")
            // Read-only: the host still runs the old definition.
            #expect(try await h.virsh("dominfo", vm).stdout.contains("32768 KiB"), "serve changed nothing")
        }
    }
}
