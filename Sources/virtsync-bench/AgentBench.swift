import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncAgent
import VirtsyncHTTP
import VirtsyncEngine
import VirtsyncSpec

/// The agent as a process, as an operator runs it: the cost of a pass when nothing changed
/// with N managed domains (CPU and wall time, resident memory), and the time from a commit
/// becoming visible (pushed, then a webhook) to the agent starting to apply it. Idle passes are
/// measured twice in the same run, on the same domains: with the event-maintained view (the
/// default) and with `reconcile.resync: 0s` (every pass reads every domain, as before it).
enum AgentBench {
    struct Idle {
        var wallMedian: Double
        var wallBest: Double
        var cpuPerPass: Double
        var idlePerSecond: Double
        var rss: Double
        var peak: Double
        /// Of `rss`: the process's own memory (heap, stacks) and mapped files (code, libraries).
        var anon: Double = 0
        var file: Double = 0
        var share: Double { (cpuPerPass + idlePerSecond * 10) / 10 * 100 }
    }

    /// A running agent process and where it listens.
    final class Agent {
        let process = Process()
        var pid: Int32 { process.processIdentifier }
        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// The owner the bench's spec declares: what its teardown prunes.
    static let owner = "virtsync-bench-agent"

    static func run(domains: Int, uri: String, rounds: Int = 10) async throws {
        let root = NSTemporaryDirectory() + "virtsync-agentbench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let remote = root + "/remote"
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        // An owner of its own, so that the teardown (same owner, same hosts directory) may prune it all.
        let files = SpecGenerator.files(vms: domains, prefix: prefix, poolPath: poolPath, withVolumes: false, owner: owner)
        for file in files {
            let path = remote + "/" + file.path
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        }
        try GitBench.git(["init", "-q", "-b", "main"], in: remote)
        try commit(remote, "spec")

        let port = 20_000 + Int(getpid() % 20_000)
        let secret = "bench-secret"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try Data(secret.utf8).write(to: URL(fileURLWithPath: root + "/secret"))
        chmod(root + "/secret", 0o600)
        func start(resync: String) throws -> Agent {
            let config = """
                apiVersion: virtsync/v1
                kind: AgentConfig
                host: local
                source:
                  repo: file://\(remote)
                  ref: main
                libvirt:
                  uri: \(uri)
                  shutdownTimeout: 0s
                reconcile:
                  interval: 10s
                  jitter: 0%
                  debounce: 0s
                  resync: \(resync)
                  parallel: 8
                stateDir: \(state)
                hostsDir: \(state)/hosts
                http:
                  listen: 127.0.0.1:\(port)
                  webhookSecretFile: \(root)/secret
                log:
                  level: info

                """
            try Data(config.utf8).write(to: URL(fileURLWithPath: root + "/agent.yaml"))
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("virtsync").path
            let agent = Agent()
            agent.process.executableURL = URL(fileURLWithPath: binary)
            agent.process.arguments = ["agent", "--config", root + "/agent.yaml"]
            _ = FileManager.default.createFile(atPath: root + "/agent.log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/agent.log"))
            agent.process.standardOutput = log
            agent.process.standardError = log
            try agent.process.run()
            return agent
        }
        func ready(_ what: String) async -> Bool {
            guard await waitForStatus(port: port, timeout: 1800, { $0.lastApplied != nil && $0.conditions[.ready]?.status == true }) != nil else {
                print("  \(what) did not converge; agent log tail:")
                print(((try? String(contentsOfFile: root + "/agent.log", encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n"))
                return false
            }
            return true
        }
        var agent = try start(resync: "5m")
        defer {
            agent.stop()
            let removed = (try? child(["--child", "teardown", "--n", "1", "--uri", uri, "--state", state, "--owner", owner])) ?? [:]
            if (removed["teardown_steps"] ?? 0) < Double(domains) || removed["error"] != nil {
                print("  teardown removed \(Int(removed["teardown_steps"] ?? 0)) resources for \(domains) domains; remove the bench- domains by hand")
            }
            try? FileManager.default.removeItem(atPath: root)
        }

        print("")
        print("agent (release build), \(domains) managed domains at \(uri), file:// remote, pass interval 10 s:")
        let setupStart = Date()
        guard await ready("the first apply") else { return }
        print("  first apply (define \(domains) domains, 2 networks, a pool): \(String(format: "%.1f", Date().timeIntervalSince(setupStart))) s")
        guard let cached = await idle(agent, port: port, rounds: rounds) else { return }

        // Commit to apply start, with a webhook.
        var latencies: [Double] = []
        let lastFile = remote + "/" + (files.last?.path ?? "")
        let base = try String(contentsOfFile: lastFile, encoding: .utf8)
        for round in 0..<5 {
            // The last document of the last file is a VM: toggle its autostart (one update step).
            try (base + (round % 2 == 0 ? "autostart: true\n" : "")).write(toFile: lastFile, atomically: true, encoding: .utf8)
            try commit(remote, "change \(round)")
            let visible = Date()
            let body = Array(#"{"ref":"refs/heads/main"}"#.utf8)
            _ = try await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: "POST", path: "/webhook",
                                              headers: ["X-Hub-Signature-256": WebhookSignature.sign(body: body, secret: Array(secret.utf8))], body: body)
            guard let started = waitForApplyStart(log: root + "/agent.log", after: round, timeout: 60) else {
                print("  no apply started for change \(round)")
                return
            }
            latencies.append(started.timeIntervalSince(visible))
            _ = await waitForStatus(port: port, timeout: 60) { $0.conditions[.ready]?.status == true && $0.passes.first?.outcome != .failed }
        }
        latencies.sort()

        // What a dashboard costs the agent: GET /api/v1/cluster (the page polls it every 2 s).
        let api = await clusterAPI(agent, port: port, requests: 20)

        // The same domains, every pass reading all of them (as before the event-maintained view).
        agent.stop()
        agent = try start(resync: "0s")
        guard await ready("the agent with resync 0s") else { return }
        guard let full = await idle(agent, port: port, rounds: rounds) else { return }

        func row(_ name: String, _ value: (Idle) -> String, target: String) {
            print("| \(name) | \(value(cached)) | \(value(full)) | \(target) |")
        }
        print("")
        print("| \(domains) managed domains, nothing to do | event-maintained view (default) | every domain read each pass (resync: 0s) | target |")
        print("|---|---:|---:|---:|")
        row("idle pass wall time, best / median", { "\(ms($0.wallBest)) / \(ms($0.wallMedian)) ms" }, target: "")
        row("idle pass CPU time (agent process)", { "\(ms($0.cpuPerPass)) ms" }, target: "≤ 20 ms")
        row("CPU between passes", { "\(ms($0.idlePerSecond)) ms/s" }, target: "")
        row("CPU share at a 10 s interval", { String(format: "%.2f%%", $0.share) }, target: "< 5%")
        row("resident memory now / peak", { String(format: "%.1f / %.1f MiB", $0.rss, $0.peak) }, target: "< 40 MiB")
        row("of it: anonymous (heap, stacks) / mapped files (code)", { String(format: "%.1f / %.1f MiB", $0.anon, $0.file) }, target: "")
        print("")
        print("  idle CPU ratio (view / full): \(String(format: "%.3f", cached.cpuPerPass / max(full.cpuPerPass, 1e-9)))")
        print("  commit visible → apply start (webhook): best \(ms(latencies[0])) ms, median \(ms(latencies[latencies.count / 2])) ms (target < 300 ms)")
        if let api {
            print("  dashboard: GET /api/v1/cluster \(api.bytes / 1024) KiB, median \(ms(api.wallMedian)) ms, agent CPU \(ms(api.cpuPerRequest)) ms a request"
                  + String(format: " (%.2f%% of a core at one poll every 2 s)", api.cpuPerRequest / 2 * 100))
        }
        emit(["agent_idle_cpu_ms_view": cached.cpuPerPass * 1000, "agent_idle_cpu_ms_full": full.cpuPerPass * 1000,
              "agent_rss_mib_view": cached.rss, "agent_rss_mib_full": full.rss,
              "agent_commit_to_apply_ms_median": latencies[latencies.count / 2] * 1000])
    }

    /// `requests` GETs of the cluster view, one after another: the median wall time, the agent's
    /// CPU per request, and the size of the answer.
    static func clusterAPI(_ agent: Agent, port: Int, requests: Int) async -> (wallMedian: Double, cpuPerRequest: Double, bytes: Int)? {
        var walls: [Double] = []
        var bytes = 0
        let cpuBefore = cpuSeconds(agent.pid)
        for _ in 0..<requests {
            let started = Date()
            guard let response = try? await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: "GET", path: "/api/v1/cluster",
                                                                timeout: .seconds(30)), response.status == 200 else {
                print("  GET /api/v1/cluster failed")
                return nil
            }
            walls.append(Date().timeIntervalSince(started))
            bytes = response.body.count
        }
        walls.sort()
        return (walls[walls.count / 2], (cpuSeconds(agent.pid) - cpuBefore) / Double(requests), bytes)
    }

    /// Idle passes back to back: CPU of the agent process per pass, wall time per pass, then
    /// what the process costs between passes (keepalive, event loop) and its memory.
    static func idle(_ agent: Agent, port: Int, rounds: Int) async -> Idle? {
        // One pass first, not counted: the domains the last apply changed are read once more
        // (their events, and the apply itself, mark them) before the view is idle.
        guard await reconcile(port: port) != nil else { print("  reconcile failed"); return nil }
        var walls: [Double] = []
        let cpuBefore = cpuSeconds(agent.pid)
        for _ in 0..<rounds {
            guard let record = await reconcile(port: port) else { print("  reconcile failed"); return nil }
            guard record.outcome == .converged else { print("  pass was \(record.outcome.rawValue): \(record.plannedSummary)"); return nil }
            walls.append(record.seconds)
        }
        let cpuPerPass = (cpuSeconds(agent.pid) - cpuBefore) / Double(rounds)
        let idleBefore = cpuSeconds(agent.pid)
        try? await Task.sleep(for: .seconds(5))
        let idlePerSecond = (cpuSeconds(agent.pid) - idleBefore) / 5
        walls.sort()
        let (rss, peak) = memory(agent.pid)
        let (anon, file) = memory(agent.pid, fields: "RssAnon:", "RssFile:")
        return Idle(wallMedian: walls[walls.count / 2], wallBest: walls[0], cpuPerPass: cpuPerPass, idlePerSecond: idlePerSecond, rss: rss, peak: peak,
                    anon: anon, file: file)
    }

    static func commit(_ directory: String, _ message: String) throws {
        try GitBench.git(["add", "-A"], in: directory)
        try GitBench.git(["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", message], in: directory)
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }

    /// utime + stime of a process, in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticks
    }

    /// VmRSS and VmHWM (or two other fields of `/proc/PID/status`) in MiB.
    static func memory(_ pid: Int32, fields first: String = "VmRSS:", _ second: String = "VmHWM:") -> (Double, Double) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
        }
        return (field(first), field(second))
    }

    static func status(port: Int) async -> AgentStatus? {
        guard let response = try? await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: "GET", path: "/status"),
              response.status == 200 else { return nil }
        return try? AgentStatus.decode(response.body)
    }

    static func waitForStatus(port: Int, timeout: Double, _ condition: (AgentStatus) -> Bool) async -> AgentStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = await status(port: port), condition(s) { return s }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    static func reconcile(port: Int) async -> PassRecord? {
        guard let response = try? await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: "POST", path: "/reconcile?wait=1",
                                                            timeout: .seconds(600)) else { return nil }
        return try? PassRecord.decode(response.body)
    }

    /// The time stamp of the (`round`+2)-th "applying" log line (the first is the initial apply).
    static func waitForApplyStart(log: String, after round: Int, timeout: Double) -> Date? {
        let deadline = Date().addingTimeInterval(timeout)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        while Date() < deadline {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("msg=applying") }
            if lines.count >= round + 2, let ts = lines[round + 1].split(separator: " ").first?.dropFirst(3), let date = formatter.date(from: String(ts)) {
                return date
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }
}
