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
/// becoming visible (pushed, then a webhook) to the agent starting to apply it.
enum AgentBench {
    static func run(domains: Int, uri: String, rounds: Int = 10) async throws {
        let root = NSTemporaryDirectory() + "virtsync-agentbench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let remote = root + "/remote"
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        let files = SpecGenerator.files(vms: domains, prefix: prefix, poolPath: poolPath, withVolumes: false)
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
              parallel: 8
            stateDir: \(state)
            http:
              listen: 127.0.0.1:\(port)
              webhookSecretFile: \(root)/secret
            log:
              level: info

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: root + "/agent.yaml"))
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("virtsync").path
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: binary)
        agent.arguments = ["agent", "--config", root + "/agent.yaml"]
        _ = FileManager.default.createFile(atPath: root + "/agent.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/agent.log"))
        agent.standardOutput = log
        agent.standardError = log
        try agent.run()
        defer {
            agent.terminate()
            agent.waitUntilExit()
            _ = try? child(["--child", "teardown", "--n", "1", "--uri", uri, "--state", state])
            try? FileManager.default.removeItem(atPath: root)
        }
        let pid = agent.processIdentifier

        print("")
        print("agent (release build), \(domains) managed domains at \(uri), file:// remote, pass interval 10 s:")
        let setupStart = Date()
        guard await waitForStatus(port: port, timeout: 1800, { $0.lastApplied != nil && $0.conditions[.ready]?.status == true }) != nil else {
            print("  the first apply did not converge; agent log tail:")
            print(((try? String(contentsOfFile: root + "/agent.log", encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n"))
            return
        }
        print("  first apply (define \(domains) domains, 2 networks, a pool): \(String(format: "%.1f", Date().timeIntervalSince(setupStart))) s")

        // Idle passes, back to back: CPU of the agent process per pass, wall time per pass.
        var walls: [Double] = []
        let cpuBefore = cpuSeconds(pid)
        for _ in 0..<rounds {
            guard let record = await reconcile(port: port) else { print("  reconcile failed"); return }
            guard record.outcome == .converged else { print("  pass was \(record.outcome.rawValue): \(record.plannedSummary)"); return }
            walls.append(record.seconds)
        }
        let cpuPerPass = (cpuSeconds(pid) - cpuBefore) / Double(rounds)
        // Between passes: what the process costs while it only waits (keepalive, event loop).
        let idleBefore = cpuSeconds(pid)
        try await Task.sleep(for: .seconds(5))
        let idlePerSecond = (cpuSeconds(pid) - idleBefore) / 5
        let share = (cpuPerPass + idlePerSecond * 10) / 10 * 100
        walls.sort()
        print("  idle pass wall time: best \(ms(walls[0])) ms, median \(ms(walls[walls.count / 2])) ms (\(rounds) passes)")
        print("  idle pass CPU time (agent process): \(ms(cpuPerPass)) ms per pass; between passes \(ms(idlePerSecond)) ms per second")
        print("  CPU share at a 10 s interval: \(String(format: "%.2f", share))% of one core (target < 5%)")
        let (rss, peak) = memory(pid)
        print("  resident memory: \(String(format: "%.1f", rss)) MiB now, \(String(format: "%.1f", peak)) MiB peak (target < 60 MiB)")

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
        print("  commit visible → apply start (webhook): best \(ms(latencies[0])) ms, median \(ms(latencies[latencies.count / 2])) ms (target < 1000 ms)")
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

    /// VmRSS and VmHWM in MiB.
    static func memory(_ pid: Int32) -> (Double, Double) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
        }
        return (field("VmRSS:"), field("VmHWM:"))
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
