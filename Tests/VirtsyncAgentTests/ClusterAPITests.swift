import Foundation
import HummingbirdTesting
import Logging
import Testing
@testable import VirtsyncAgent
import VirtsyncCore
import VirtsyncDashboard
import VirtsyncEngine
import VirtsyncHTTP
import VirtsyncTesting
import VirtsyncTestSupport

/// The REST API and the dashboard's paths, in process and through the endpoint's token rules.
@Suite("cluster API")
struct ClusterAPITests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Fixed: ClusterViewProvider {
        var value: ClusterView
        func view() async -> ClusterView { value }
    }

    static func sample() -> ClusterView {
        var view = ClusterView(generatedAt: now, server: .init(kind: "serve", version: "t"), source: "spec")
        view.hosts = [HostView(name: "h1", reachable: true, vmCount: 1, runningCount: 1), HostView(name: "h2", reachable: false, unreachableReason: "timeout")]
        view.vms = [VMView(name: "web-1", desiredHost: "h1", host: "h1", power: "running"), VMView(name: "db-1", desiredHost: "h2", power: "unknown")]
        view.passes = (1...30).map { PassView(host: $0 % 2 == 0 ? "h1" : "h2", id: $0, trigger: "interval", startedAt: now, seconds: 0, outcome: "converged", reason: "Converged") }
        view.events = (0..<5).map { EventView(at: now.addingTimeInterval(Double(-$0 * 60)), kind: "vm", message: "e\($0)") }
        return view
    }

    static func get(_ api: ClusterAPI, _ path: String, query: [String: String] = [:]) async -> EndpointResponse? {
        await api.handle(EndpointRequest(method: "GET", path: path, query: query))
    }

    @Test("every read answers JSON from the view; filters and limits apply; unknown names and paths are problem+json")
    func reads() async throws {
        let api = ClusterAPI(provider: Fixed(value: Self.sample()), control: nil)
        let cluster = try #require(await Self.get(api, "/api/v1/cluster"))
        #expect(cluster.status == 200 && cluster.header("content-type") == "application/json")
        #expect(try ClusterView.decode(Data(cluster.body)) == Self.sample())
        #expect(await Self.get(api, "/api/v1/hosts/h2")?.bodyText.contains("\"unreachableReason\":\"timeout\"") == true)
        #expect(await Self.get(api, "/api/v1/vms", query: ["host": "h2"])?.bodyText.contains("db-1") == true)
        #expect(await Self.get(api, "/api/v1/vms", query: ["host": "h2"])?.bodyText.contains("web-1") == false)
        let passes = try #require(await Self.get(api, "/api/v1/passes", query: ["limit": "5", "host": "h1"]))
        #expect(try JSONSerialization.jsonObject(with: Data(passes.body)) as? [Any] != nil)
        #expect((try JSONSerialization.jsonObject(with: Data(passes.body)) as? [[String: Any]])?.count == 5)
        let since = try #require(await Self.get(api, "/api/v1/events", query: ["since": "2027-01-15T07:57:30Z"]))
        #expect((try JSONSerialization.jsonObject(with: Data(since.body)) as? [Any])?.count == 3, "\(since.bodyText)")
        for (path, query, status) in [("/api/v1/vms/nope", [:], 404), ("/api/v1/hosts/nope", [:], 404), ("/api/v1/nothing", [:], 404),
                                      ("/api/v2/cluster", [:], 404), ("/api/v1/passes", ["limit": "0"], 400), ("/api/v1/passes", ["limit": "x"], 400),
                                      ("/api/v1/events", ["since": "yesterday"], 400), ("/api/v1/events", ["limit": "1001"], 400)] as [(String, [String: String], Int)] {
            let response = try #require(await Self.get(api, path, query: query))
            #expect(response.status == status, "\(path) \(query)")
            #expect(response.header("content-type") == "application/problem+json")
            let problem = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(problem["status"] as? Int == status && problem["title"] is String && problem["type"] as? String == "about:blank")
        }
        let wrong = try #require(await api.handle(EndpointRequest(method: "DELETE", path: "/api/v1/cluster")))
        #expect(wrong.status == 405 && wrong.header("allow") == "GET, HEAD")
        #expect(await api.handle(EndpointRequest(method: "GET", path: "/status")) == nil, "not the API's: left to the agent's routes")
    }

    @Test("the page, its assets and the OpenAPI document are served from the binary, with a strict content security policy")
    func assets() async throws {
        let api = ClusterAPI(provider: Fixed(value: Self.sample()), control: nil)
        for (path, type) in [("/", "text/html"), ("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css"), ("/openapi.yaml", "application/yaml")] {
            let response = try #require(await Self.get(api, path))
            #expect(response.status == 200 && response.header("content-type")?.hasPrefix(type) == true, "\(path)")
            #expect(response.body.count > 500, "\(path) has content")
            #expect(response.header("content-security-policy")?.contains("default-src 'self'") == true)
        }
        let page = try #require(await Self.get(api, "/")).bodyText
        #expect(!page.contains("http://") && !page.contains("https://"), "nothing fetched from elsewhere")
        let document = try #require(await Self.get(api, "/openapi.yaml")).bodyText
        #expect(document.contains("openapi: 3") && document.contains("/api/v1/cluster"))
        // The document the repository keeps in specs/ is the one served.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let kept = try String(contentsOfFile: root.path + "/specs/api/openapi.yaml", encoding: .utf8)
        #expect(kept == document)
    }

    @Test("writes: serve has none; an agent's need this host (not another site's page) or the write token")
    func writes() async throws {
        let readOnly = ClusterAPI(provider: Fixed(value: Self.sample()), control: nil)
        #expect(await readOnly.handle(EndpointRequest(method: "POST", path: "/api/v1/reconcile"))?.status == 403)

        let f = try AgentRoutesTests.Fixture()
        func post(_ path: String, access: EndpointAccess, headers: [String: String] = [:], query: [String: String] = [:]) async -> EndpointResponse {
            await f.routes.handle(EndpointRequest(method: "POST", path: path, query: query, headers: headers, peerAddress: "192.0.2.7",
                                                  peerIsLoopback: access == .local, access: access))
        }
        let local = await post("/api/v1/reconcile", access: .local)
        #expect(local.status == 202 && local.bodyText == #"{"pass":1}"#)
        #expect(await post("/api/v1/reconcile", access: .local, headers: ["origin": "https://evil.example", "host": "127.0.0.1:9479"]).status == 403)
        #expect(await post("/api/v1/reconcile", access: .local, headers: ["origin": "http://127.0.0.1:9479", "host": "127.0.0.1:9479"]).status == 202)
        #expect(await post("/api/v1/reconcile", access: .read).status == 403, "the read token does not write")
        #expect(await post("/api/v1/suspend", access: .none).status == 403)
        let suspended = await post("/api/v1/suspend", access: .write, query: ["reason": "disk swap"])
        #expect(suspended.status == 200 && suspended.bodyText.contains(#""reason":"disk swap""#) && suspended.bodyText.contains(#""suspended":true"#))
        #expect(f.state.snapshot.suspended?.reason == "disk swap")
        let resumed = await post("/api/v1/resume", access: .write)
        #expect(resumed.status == 200 && resumed.bodyText.contains(#""suspended":false"#) && resumed.bodyText.contains(#""pass":"#))
        #expect(f.state.snapshot.suspended == nil)
        #expect(await f.routes.handle(EndpointRequest(method: "GET", path: "/api/v1/reconcile")).status == 405)
    }

    @Test("through the endpoint: a peer elsewhere reads with either token, writes only with the write token; the page needs none")
    func tokens() async throws {
        let configuration = HTTPEndpointConfiguration(host: "127.0.0.1", port: 0, bearerToken: Array("reader".utf8), openPaths: ClusterAPI.openPaths,
                                                      writeToken: Array("writer".utf8))
        let api = ClusterAPI(provider: Fixed(value: Self.sample()), control: nil)
        let app = try HTTPEndpoint.application(configuration, logger: Logger(label: "test")) { request in
            if request.path == "/whoami" { return .text("\(request.access)") }
            return await api.handle(request) ?? .text("other", status: 404)
        }
        // The router framework's requests come from no address: a peer on another machine.
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/cluster", method: .get) { response in
                #expect(response.status == .unauthorized && response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"virtsync\"")
            }
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/openapi.yaml", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer reader"]) { #expect(String(buffer: $0.body) == "read") }
            try await client.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer writer"]) { #expect(String(buffer: $0.body) == "write") }
            try await client.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer nobody"]) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/cluster", method: .get, headers: [.authorization: "Bearer writer"]) { #expect($0.status == .ok) }
        }
    }

    /// A view with every optional field filled: what live data may rarely show.
    static func full() -> ClusterView {
        var view = sample()
        view.commit = "3f9a1c0d2b4e5f60718293a4b5c6d7e8f9a0b1c2"
        view.server = .init(kind: "agent", host: "h1", version: "0.1.0")
        view.hosts[0] = HostView(name: "h1", uri: "qemu+ssh://h1/system", reachable: true, dead: false, maintenance: true, labels: ["zone": "a"],
                                 lease: HostView.Lease(id: Int64.min + 12_345, secondsLeft: 3.5), capacity: CapacityView(memoryMiB: 4096, vcpus: 8),
                                 used: CapacityView(memoryMiB: 512, vcpus: 2), vmCount: 1, runningCount: 1,
                                 agent: HostView.Agent(reportedAt: now, lastPass: 7, lastOutcome: "applied", lastReason: "Applied", ready: true,
                                                       stalled: false, suspended: true))
        view.vms[0] = VMView(name: "web-1", desiredHost: "h2", host: "h1", power: "paused", desiredPower: "running", memoryMiB: 512, vcpus: 2,
                             ha: true, haOwner: "h1", haEpoch: 42, drift: ["update: memory (live)"],
                             lastStep: VMView.LastStep(action: "migrate", host: "h1", outcome: "failed", message: "timeout", at: now, seconds: 3, pass: 7))
        view.plan = PlanView(summary: "Plan: 1 update. Disruption: 1 live.",
                             steps: [PlanView.Step(host: "h1", action: "update", kind: "domain", name: "web-1", disruption: "live", reason: "memory", fields: ["memory"])],
                             notes: [PlanView.Note(severity: "warning", message: "h2 cannot be read")])
        view.passes[0].message = "1 step(s) failed"
        view.passes[0].planned = ["update": 1]
        view.passes[0].commit = view.commit
        view.failovers = [FailoverView(vm: "web-1", from: "h2", to: "h1", epoch: 42, at: now, seconds: 6.5)]
        view.migrations = [MigrationView(vm: "web-1", from: "h2", to: "h1", at: now, seconds: 2.5, downtimeMilliseconds: 31, outcome: "succeeded")]
        view.events[0] = EventView(at: now, kind: "failover", severity: "warning", host: "h1", vm: "web-1", message: "web-1 taken over")
        view.banners = [Banner.stalled(host: "h1", reason: "InvalidSpec", message: "vms.yaml:3:9: error: memory: bad",
                                       location: SourceLocation(file: "vms.yaml", line: 3, column: 9), commit: view.commit),
                        Banner(kind: "suspended", severity: "warning", host: "h1", message: "suspended")]
        return view
    }

    @Test("every field of the view, filled, conforms to the OpenAPI document (jsonschema, as a generated client reads it); drift is caught")
    func documentTakesEveryField() async throws {
        let python = try Command.locate("python3")
        let probe = try await Command.run(python, ["-c", "import jsonschema, yaml"])
        try #require(probe.succeeded, "python3 lacks jsonschema or yaml (scripts/install-deps.sh installs them): \(probe.stderr)")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("specs/tools/check_api_schema.py").path
        let scratch = try ScratchDirectory(prefix: "api-schema")
        let full = Self.full()
        try full.json().write(to: URL(fileURLWithPath: scratch.path("full.json")))
        try Self.sample().json().write(to: URL(fileURLWithPath: scratch.path("sample.json")))
        let good = try await Command.run(python, [script, "ClusterView", scratch.path("full.json"), scratch.path("sample.json")])
        #expect(good.succeeded && good.stdout.contains("2 file(s) conform"), "\(good.stdout)\(good.stderr)")

        // A key the document does not have, and a lease ID that is a number: refused.
        var object = try #require(try JSONSerialization.jsonObject(with: full.json()) as? [String: Any])
        var hosts = try #require(object["hosts"] as? [[String: Any]])
        hosts[0]["cpuModel"] = "EPYC"
        object["hosts"] = hosts
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: scratch.path("extra.json")))
        hosts[0]["cpuModel"] = nil
        hosts[0]["lease"] = ["id": 12345]
        object["hosts"] = hosts
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: scratch.path("number.json")))
        for bad in ["extra.json", "number.json"] {
            let refused = try await Command.run(python, [script, "ClusterView", scratch.path(bad)])
            #expect(!refused.succeeded && refused.stdout.contains("hosts/0"), "\(bad): \(refused.stdout)\(refused.stderr)")
        }
    }
}

/// When an agent's report goes to etcd: a change peers must see, at once; the pass list and the
/// lease's time left, at most once a quiet period; nothing new, never.
@Suite("host report publication")
struct ReportPublicationTests {
    static func report(power: String = "running", passes: Int = 1, secondsLeft: Double = 4) -> HostReport {
        var report = HostReport(host: "h1", reportedAt: Date(timeIntervalSince1970: Double(passes)),
                                agent: HostView.Agent(reportedAt: Date(timeIntervalSince1970: Double(passes)), lastPass: passes, lastOutcome: "converged"),
                                vms: [VMView(name: "web-1", host: "h1", power: power)], lease: HostView.Lease(id: 7, secondsLeft: secondsLeft))
        report.passes = (1...passes).map { PassView(host: "h1", id: $0, trigger: "interval", startedAt: Date(timeIntervalSince1970: Double($0)), seconds: 0, outcome: "converged", reason: "Converged") }
        return report
    }

    @Test("idle passes and a ticking lease go out once a quiet period; a VM's power at once; the same report never")
    func due() {
        let last = Self.report()
        #expect(ReportPublisher.due(last, last: nil, lastAt: 0, now: 0, quiet: 60), "the first report")
        #expect(!ReportPublisher.due(Self.report(), last: last, lastAt: 100, now: 1000, quiet: 60), "nothing new")
        let idle = Self.report(passes: 2, secondsLeft: 3.1)
        #expect(!ReportPublisher.due(idle, last: last, lastAt: 100, now: 130, quiet: 60), "an idle pass within the quiet period")
        #expect(ReportPublisher.due(idle, last: last, lastAt: 100, now: 161, quiet: 60), "after it")
        #expect(ReportPublisher.due(Self.report(power: "shutoff", passes: 2), last: last, lastAt: 100, now: 101, quiet: 60), "a VM stopped")
    }

    @Test("a report too large for etcd goes without its VM list, and says so")
    func bounded() {
        var big = Self.report()
        big.vms = (0..<10000).map { VMView(name: "vm-\($0)-with-a-long-name", host: "h1", power: "running", memoryMiB: 1024, vcpus: 2) }
        let sent = ReportPublisher.bounded(big)
        #expect(sent.vms.isEmpty && sent.banners.contains { $0.message.contains("10000 VMs are not listed") })
        #expect(ReportPublisher.bounded(Self.report()) == Self.report())
    }
}
