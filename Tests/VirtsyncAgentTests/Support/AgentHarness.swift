import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncAgent
import VirtsyncHTTP
import VirtsyncEngine
import VirtsyncTestSupport

/// A real `virtsync agent` process following a real git repository, with its HTTP endpoint on
/// a free loopback port. Everything it made (domains and networks named with `tag`, the
/// folders) is removed by `tearDown`, which `tearingDown(after:)` runs at the end of a test.
/// With libvirt's test driver (`test:///default`) there is nothing to remove: `stop()` in a
/// `defer` is enough.
final class AgentHarness {
    let git: GitFixture
    let scratch: ScratchDirectory
    let tag = TinySpec.uniqueTag()
    let uri: String
    let port: Int
    let secret = "webhook-secret-\(UUID().uuidString)"
    var stateDir: String { scratch.path("state") }
    var configPath: String { scratch.path("agent.yaml") }
    var logPath: String { scratch.path("agent.log") }
    private(set) var agent: ChildProcess?

    /// `timing` is the `reconcile:` block of the configuration.
    init(uri: String, timing: String = "interval: 1h\n  debounce: 200ms\n  backoff: {initial: 1s, max: 2s}", extra: String = "") async throws {
        self.uri = uri
        git = try await GitFixture()
        scratch = try ScratchDirectory(prefix: "agent")
        port = try LoopbackPort.free()
        let secretFile = scratch.path("webhook.secret")
        try Data(secret.utf8).write(to: URL(fileURLWithPath: secretFile))
        chmod(secretFile, 0o600)
        let config = """
            apiVersion: virtsync/v1
            kind: AgentConfig
            host: local
            source:
              repo: \(git.url)
              ref: main
            libvirt:
              uri: \(uri)
              shutdownTimeout: 0s
            reconcile:
              \(timing)
            stateDir: \(stateDir)
            http:
              listen: 127.0.0.1:\(port)
              webhookSecretFile: \(secretFile)
            log:
              level: debug
            \(extra)
            """
        try Data((config + "\n").utf8).write(to: URL(fileURLWithPath: configPath))
    }

    /// Writes files and commits them (pushed to the remote the agent follows).
    @discardableResult
    func commit(_ message: String, _ files: [String: String]) async throws -> String {
        for (path, text) in files { try git.write(path, text) }
        return try await git.commit(message)
    }

    /// Starts the agent process (with `extraEnvironment`, e.g. systemd's `NOTIFY_SOCKET`).
    func start(extraEnvironment: [String: String] = [:]) throws {
        agent = try ChildProcess(executable: VirtsyncBinary.path, arguments: ["agent", "--config", configPath],
                                 environment: VirtsyncBinary.environment().merging(extraEnvironment) { _, new in new }, outputPath: logPath)
    }

    /// Sends a signal to the agent process.
    func signal(_ number: Int32) {
        guard let agent, agent.isRunning else { return }
        kill(agent.pid, number)
    }

    /// Stops it with SIGTERM (graceful) and waits.
    func stop() {
        agent?.terminate(timeout: 30)
    }

    /// Kills it at once (no cleanup, no last status write).
    func killHard() {
        guard let agent, agent.isRunning else { return }
        kill(agent.pid, SIGKILL)
        agent.terminate(timeout: 5)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// An HTTP request to the agent.
    func http(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Double = 10) async throws -> EndpointResponse {
        try await EndpointClient.send(.init(host: "127.0.0.1", port: port), method: method, path: path, headers: headers, body: body,
                                      timeout: .milliseconds(Int64(timeout * 1000)))
    }

    /// The agent's `/status`, or nil while it does not answer.
    func status() async -> AgentStatus? {
        guard let response = try? await http("GET", "/status"), response.status == 200 else { return nil }
        return try? AgentStatus.decode(response.body)
    }

    /// Waits (real time) until `condition` holds for the status; records an issue with the log otherwise.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 30, _ condition: (AgentStatus) -> Bool) async -> AgentStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = await status(), condition(s) { return s }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let last = await status()
        Issue.record("timed out after \(timeout) s waiting for: \(what)\nstatus: \(last.map { String(decoding: (try? $0.json()) ?? Data(), as: UTF8.self) } ?? "none")\n--- agent log (tail)\n\(log.split(separator: "\n").suffix(40).joined(separator: "\n"))")
        return nil
    }

    /// Waits (real time) until no pass has been recorded for `quiet` seconds; returns that status.
    func waitForQuiet(for quiet: Double, timeout: Double = 30) async -> AgentStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        var last = await status()
        var since = Date()
        while Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            let now = await status()
            if now?.passes.count != last?.passes.count || now?.passes.first?.id != last?.passes.first?.id {
                last = now
                since = Date()
            } else if Date().timeIntervalSince(since) >= quiet {
                return now
            }
        }
        Issue.record("the agent kept running passes for \(timeout) s")
        return nil
    }

    /// Waits until some condition holds outside the agent (virsh state, files).
    func waitUntil(_ what: String, timeout: Double = 30, _ condition: () async throws -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out after \(timeout) s waiting for: \(what)\n--- agent log (tail)\n\(log.split(separator: "\n").suffix(40).joined(separator: "\n"))")
        return false
    }

    /// Sends a signed push webhook, as a forge would.
    func webhook() async throws -> EndpointResponse {
        let body = Array(#"{"ref":"refs/heads/main"}"#.utf8)
        return try await http("POST", "/webhook", headers: ["X-Hub-Signature-256": WebhookSignature.sign(body: body, secret: Array(secret.utf8)),
                                                      "X-GitHub-Event": "push", "Content-Type": "application/json"], body: body)
    }

    /// `POST /reconcile?wait=1`: the pass record.
    func reconcileNow() async throws -> PassRecord? {
        try? PassRecord.decode(try await http("POST", "/reconcile?wait=1", timeout: 120).body)
    }

    /// `virsh -c uri args`.
    func virsh(_ args: String...) async throws -> CommandResult {
        try await Command.run(try Command.locate("virsh"), ["-q", "-c", uri] + args)
    }

    /// A domain's state as virsh says it (`running`, `shut off`), nil when it does not exist.
    func domainState(_ name: String) async -> String? {
        guard let result = try? await virsh("domstate", name), result.succeeded else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the agent and removes everything named with the tag.
    func tearDown() async {
        stop()
        guard !uri.hasPrefix("test:") else { return }
        for kind in [("list", "--all", "--name", "destroy", "undefine"), ("net-list", "--all", "--name", "net-destroy", "net-undefine")] {
            let names = ((try? await virsh(kind.0, kind.1, kind.2))?.stdout ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix(tag) }
            for name in names {
                _ = try? await virsh(kind.3, name)
                _ = try? await virsh(kind.4, name)
            }
        }
    }

    /// Runs `body`, then `tearDown()` whether it threw or not (a `defer` cannot await).
    func tearingDown(after body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await tearDown()
            throw error
        }
        await tearDown()
    }
}
