import Foundation
import Testing
import VirtsyncCore
import VirtsyncAgent
import VirtsyncSpec
import VirtsyncTestSupport

@Suite("agent configuration")
struct AgentConfigTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The smallest valid configuration; lines 1 to 5.
    static let minimal = """
        apiVersion: virtsync/v1
        kind: AgentConfig
        host: node-1
        source:
          repo: ssh://git@git.example.com/infra/cluster.git

        """

    /// Writes `text` as `agent.yaml` in `directory` and loads it with file checks.
    static func load(_ text: String, in directory: ScratchDirectory) throws -> (AgentConfig?, Diagnostics) {
        try directory.write("agent.yaml", text)
        return AgentConfigLoader.load(path: directory.path + "/agent.yaml")
    }

    /// Creates `name` in `directory` with `mode` and returns its path.
    static func file(_ name: String, in directory: ScratchDirectory, mode: Int = 0o600) throws -> String {
        try directory.write(name, "content\n")
        let path = directory.path + "/" + name
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test("a full file gives every field")
    func fullFile() throws {
        let directory = try ScratchDirectory(prefix: "agent-config")
        let paths = try ["allowed_signers", "id_ed25519", "known_hosts", "token", "ca.pem", "webhook.secret"]
            .map { try Self.file($0, in: directory) }
        let text = """
            apiVersion: virtsync/v1
            kind: AgentConfig
            host: node-1
            source:
              repo: https://git.example.com/infra/cluster.git
              ref: release/2026
              path: ./clusters//prod/
              allowedSigners: \(paths[0])
              sshKey: \(paths[1])
              knownHosts: \(paths[2])
              httpsUser: deploy
              tokenFile: \(paths[3])
              caFile: \(paths[4])
              fetchTimeout: 2m
            libvirt:
              uri: qemu+ssh://root@node-1/system
              callTimeout: 45s
              shutdownTimeout: 0s
            reconcile:
              interval: 1h30m
              jitter: 12.5%
              debounce: 500ms
              backoff: {initial: 10s, max: 1h}
              prune: true
              allowMassDelete: true
              allowHistoryRewrite: true
              parallel: 16
            stateDir: /srv/virtsync/
            hostsDir: /srv/virtsync-hosts
            http:
              listen: "[::1]:8080"
              webhookSecretFile: \(paths[5])
            log:
              level: debug
              format: json

            """
        let (loaded, diagnostics) = try Self.load(text, in: directory)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let config = try #require(loaded)
        let source = AgentConfig.Source(repo: "https://git.example.com/infra/cluster.git", ref: "release/2026",
                                        path: "clusters/prod", allowedSigners: paths[0], sshKey: paths[1],
                                        knownHosts: paths[2], httpsUser: "deploy", tokenFile: paths[3],
                                        caFile: paths[4], fetchTimeout: 120)
        let file = directory.path + "/agent.yaml"
        let expected = AgentConfig(host: "node-1", source: source, libvirtURI: "qemu+ssh://root@node-1/system",
                                   callTimeout: 45, shutdownTimeout: 0, interval: 5400, jitter: 0.125,
                                   debounce: 0.5, backoffInitial: 10, backoffMax: 3600, prune: true,
                                   allowMassDelete: true, allowHistoryRewrite: true, parallel: 16,
                                   stateDirectory: "/srv/virtsync", hostsDirectory: "/srv/virtsync-hosts", listen: AgentConfig.Listen(host: "::1", port: 8080),
                                   webhookSecretFile: paths[5], logLevel: "debug", logFormat: .json,
                                   file: file, locations: config.locations)
        #expect(config == expected)
        #expect(config.listen?.description == "[::1]:8080")
        #expect(config.listen?.isLoopback == true)
        #expect(config.locations["source.repo"] == SourceLocation(file: file, line: 5, column: 9))
        #expect(config.locations["reconcile.backoff.max"]?.line == 23)
        #expect(config.locations["log.format"]?.line == 35)
    }

    @Test("a minimal file gives the documented defaults")
    func defaults() throws {
        let (loaded, diagnostics) = AgentConfigLoader.load(text: Self.minimal, file: "agent.yaml")
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let config = try #require(loaded)
        #expect(config.host == "node-1")
        #expect(config.source == AgentConfig.Source(repo: "ssh://git@git.example.com/infra/cluster.git"))
        #expect(config.source.ref == nil && config.source.path == "." && config.source.fetchTimeout == 60)
        #expect(config.libvirtURI == "qemu:///system")
        #expect(config.callTimeout == 30 && config.shutdownTimeout == 60)
        #expect(config.interval == 60 && config.jitter == 0.1 && config.debounce == 2)
        #expect(config.backoffInitial == 5 && config.backoffMax == 300)
        #expect(!config.prune && !config.allowMassDelete && !config.allowHistoryRewrite)
        #expect(config.parallel == 4)
        #expect(config.stateDirectory == "/var/lib/virtsync")
        #expect(config.hostsDirectory == nil)   // VIRTSYNC_HOSTS_DIR or /var/lib/virtsync/hosts, as for apply
        #expect(config.listen == AgentConfig.Listen(host: "127.0.0.1", port: 9479))
        #expect(config.webhookSecretFile == nil)
        #expect(config.logLevel == "info" && config.logFormat == .logfmt)
        #expect(config.file == "agent.yaml")
        #expect(config.locations["host"] == SourceLocation(file: "agent.yaml", line: 3, column: 7))
    }

    @Test("listen: off disables the HTTP endpoint")
    func listenOff() throws {
        let (loaded, diagnostics) = AgentConfigLoader.load(text: Self.minimal + "http:\n  listen: off\n", file: "agent.yaml")
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let config = try #require(loaded)
        #expect(config.listen == nil)
    }

    @Test("each kind of mistake gives one error at its line, naming the field", arguments: Mistake.all)
    func mistake(_ mistake: Mistake) {
        let (config, diagnostics) = AgentConfigLoader.load(text: mistake.text, file: "agent.yaml", fileChecks: false)
        #expect(config == nil)
        #expect(diagnostics.items.count == 1, "\(diagnostics)")
        let item = diagnostics.items.first
        #expect(item?.severity == .error)
        #expect(item?.location.file == "agent.yaml")
        #expect(item?.location.line == mistake.line, "\(diagnostics)")
        #expect(item?.path == mistake.path, "\(diagnostics)")
        #expect(item?.message.contains(mistake.message) == true, "\(diagnostics)")
    }

    @Test("several mistakes are reported together")
    func severalMistakes() {
        let text = Self.minimal + "reconcile:\n  interval: 1s\n  parallel: 100\nlog:\n  level: loud\n"
        let (config, diagnostics) = AgentConfigLoader.load(text: text, file: "agent.yaml")
        #expect(config == nil)
        #expect(diagnostics.errors.map(\.path) == ["reconcile.interval", "reconcile.parallel", "log.level"])
        #expect(diagnostics.description.hasPrefix("agent.yaml:7:13: error: reconcile.interval: 1s is out of range"))
    }

    @Test("an unknown key suggests the close one")
    func unknownKeySuggestion() {
        let text = Self.minimal + "reconcile:\n  intervall: 30s\n"
        let (_, diagnostics) = AgentConfigLoader.load(text: text, file: "agent.yaml")
        #expect(diagnostics.description == "agent.yaml:7:3: error: reconcile.intervall: unknown key 'intervall'; did you mean 'interval'?")
    }

    @Test("a listen address that is not loopback is a warning, and the configuration still loads",
          arguments: ["0.0.0.0:9479", "192.0.2.10:9479", "[::]:9479", "node-1.example.com:9479"])
    func publicListen(_ address: String) throws {
        let (loaded, diagnostics) = AgentConfigLoader.load(text: Self.minimal + "http:\n  listen: \"\(address)\"\n",
                                                           file: "agent.yaml")
        #expect(diagnostics.errors.isEmpty, "\(diagnostics)")
        #expect(diagnostics.warnings.count == 1)
        #expect(diagnostics.warnings.first?.path == "http.listen")
        #expect(diagnostics.warnings.first?.location.line == 7)
        let config = try #require(loaded)
        #expect(config.listen?.isLoopback == false)
        #expect(config.listen?.description == address)
    }

    @Test("off loopback: a token and TLS silence the warning, a token alone warns of clear text; the files are checked")
    func tokenAndTLS() throws {
        let directory = try ScratchDirectory(prefix: "agent-config")
        let token = try Self.file("http.token", in: directory)
        let certificate = try Self.file("agent.pem", in: directory, mode: 0o644)
        let key = try Self.file("agent.key", in: directory)
        let tls = "  tls:\n    certificateFile: \(certificate)\n    keyFile: \(key)\n"

        let (secured, quiet) = try Self.load(Self.minimal + "http:\n  listen: 0.0.0.0:9479\n  tokenFile: \(token)\n" + tls, in: directory)
        #expect(quiet.items.isEmpty, "\(quiet)")
        #expect(secured?.httpTokenFile == token)
        #expect(secured?.httpTLS == AgentConfig.TLS(certificateFile: certificate, keyFile: key))
        #expect(secured?.httpWriteTokenFile == nil)

        // The write token of the REST API: read like the read token (an existing file only its owner reads).
        let writer = try Self.file("http.write-token", in: directory)
        let (writing, writeQuiet) = try Self.load(Self.minimal + "http:\n  listen: 0.0.0.0:9479\n  writeTokenFile: \(writer)\n" + tls, in: directory)
        #expect(writeQuiet.items.isEmpty, "a write token also guards the endpoint: \(writeQuiet)")
        #expect(writing?.httpWriteTokenFile == writer && writing?.httpTokenFile == nil)

        let (_, clear) = try Self.load(Self.minimal + "http:\n  listen: 0.0.0.0:9479\n  tokenFile: \(token)\n", in: directory)
        #expect(clear.errors.isEmpty)
        #expect(clear.warnings.map(\.message) == ["0.0.0.0:9479 is reachable from other machines and http.tls is not set: the bearer token crosses the network in clear"])

        let (_, open) = try Self.load(Self.minimal + "http:\n  listen: 0.0.0.0:9479\n", in: directory)
        #expect(open.warnings.first?.message.contains("set http.tokenFile") == true, "\(open)")

        // The key and the token are secrets: open permissions are refused, like the webhook's.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        let (refused, problems) = try Self.load(Self.minimal + "http:\n" + tls, in: directory)
        #expect(refused == nil)
        #expect(problems.errors.map(\.path) == ["http.tls.keyFile"])
        #expect(problems.errors.first?.location.line == 9)

        // Both files are required with tls.
        let (_, missing) = try Self.load(Self.minimal + "http:\n  tls:\n    certificateFile: \(certificate)\n", in: directory)
        #expect(missing.errors.count == 1)
        #expect(missing.errors.first?.path == "http.tls.keyFile", "\(missing)")
    }

    @Test("ha: endpoints, prefix, timings and the watchdog are read; without ha there is none")
    func haSection() throws {
        let directory = try ScratchDirectory(prefix: "agent-config")
        let device = try Self.file("watchdog", in: directory)
        let text = Self.minimal + """
            ha:
              etcd:
                endpoints: [10.0.0.1:2379, "[fd00::2]:2379"]
                prefix: /virtsync/prod
                electionTimeout: 500ms
              leaseTTL: 5s
              margin: 1500ms
              guard: 1s
              watchdog:
                device: \(device)
              failback: false

            """
        let (loaded, diagnostics) = try Self.load(text, in: directory)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let ha = try #require(loaded?.ha)
        #expect(ha.endpoints.map(\.description) == ["10.0.0.1:2379", "[fd00::2]:2379"])
        #expect(ha.prefix == "/virtsync/prod")
        #expect(ha.timings.leaseTTL == .seconds(5))
        #expect(ha.timings.margin == .milliseconds(1500))
        #expect(ha.timings.watchdogTimeout == .milliseconds(3500), "the watchdog follows the lease unless told")
        #expect(ha.watchdogDevice == device)
        #expect(ha.failback == false)
        #expect(AgentConfigLoader.load(text: Self.minimal, file: "agent.yaml").0?.ha == nil)
    }

    @Test("ha: timings an etcd leader election can outlast are a warning at the leaseTTL line, unless etcd's election timeout is declared short enough",
          arguments: [
            ("  leaseTTL: 5s\n  margin: 1500ms\n", nil, "1.83s", "2s"),
            ("  leaseTTL: 5s\n  margin: 1500ms\n", "2s", "1.83s", "4s"),
            ("  leaseTTL: 9s\n  margin: 2500ms\n", "2s", "3.5s", "4s"),
            ("  leaseTTL: 9s\n  margin: 2s\n", "2s", nil, nil),
            ("  leaseTTL: 5s\n  margin: 1500ms\n", "900ms", nil, nil),
            ("", nil, nil, nil),
          ] as [(String, String?, String?, String?)])
    func electionWarning(_ timings: String, election: String?, allowance: String?, twice: String?) throws {
        let etcd = "ha:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n" + (election.map { "    electionTimeout: \($0)\n" } ?? "")
        let (loaded, diagnostics) = AgentConfigLoader.load(text: Self.minimal + etcd + timings + "  watchdog: {device: off}\n", file: "agent.yaml")
        #expect(loaded?.ha != nil, "a warning still loads: \(diagnostics)")
        #expect(diagnostics.errors.isEmpty, "\(diagnostics)")
        guard let allowance, let twice else {
            #expect(diagnostics.warnings.isEmpty, "\(diagnostics)")
            return
        }
        let warning = try #require(diagnostics.warnings.first { $0.path == "ha" }, "\(diagnostics)")
        #expect(warning.location.line == (election == nil ? 9 : 10), "the leaseTTL line: \(diagnostics)")
        #expect(warning.message.contains("leaves \(allowance) for a renewal"), "\(warning.message)")
        #expect(warning.message.contains("(\(twice))"), "\(warning.message)")
        #expect(warning.message.contains("ha.etcd.electionTimeout"), "\(warning.message)")
    }

    @Test("ha: a missing device, an unsafe watchdog, a bad endpoint and half a client certificate are errors with their lines",
          arguments: [
            ("ha:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n  watchdog:\n    device: /nonexistent/watchdog\n", 10, "ha.watchdog.device", "No such file"),
            ("ha:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n  leaseTTL: 5s\n  margin: 1s\n  watchdog:\n    device: off\n    timeout: 8s\n",
             9, "ha", "watchdogTimeout must be above 0 and at most leaseTTL - margin"),
            ("ha:\n  etcd:\n    endpoints: [127.0.0.1]\n  watchdog: {device: off}\n", 8, "ha.etcd.endpoints", "has no port"),
            ("ha:\n  etcd:\n    endpoints: []\n  watchdog: {device: off}\n", 8, "ha.etcd.endpoints", "at least one"),
            ("ha:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n    prefix: virtsync/\n  watchdog: {device: off}\n", 9, "ha.etcd.prefix", "not a key prefix"),
            ("ha:\n  leaseTTL: 1s\n  watchdog: {device: off}\n", 7, "ha.etcd", "missing"),
          ] as [(String, Int, String, String)])
    func haMistakes(_ text: String, line: Int, path: String, message: String) throws {
        let (loaded, diagnostics) = AgentConfigLoader.load(text: Self.minimal + text, file: "agent.yaml")
        #expect(loaded == nil)
        let error = try #require(diagnostics.errors.first { $0.path == path }, "\(diagnostics)")
        #expect(error.location.line == line, "\(diagnostics)")
        #expect(error.message.contains(message), "\(diagnostics)")
    }

    @Test("a webhook secret readable by group or others is refused, like ssh refuses open keys")
    func openSecretRefused() throws {
        let directory = try ScratchDirectory(prefix: "agent-config")
        let secret = try Self.file("webhook.secret", in: directory, mode: 0o640)
        let (config, diagnostics) = try Self.load(Self.minimal + "http:\n  webhookSecretFile: \(secret)\n", in: directory)
        #expect(config == nil)
        #expect(diagnostics.items.count == 1)
        #expect(diagnostics.items.first?.path == "http.webhookSecretFile")
        #expect(diagnostics.items.first?.location.line == 7)
        #expect(diagnostics.items.first?.message.contains("permissions 640") == true, "\(diagnostics)")

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        let (loaded, again) = try Self.load(Self.minimal + "http:\n  webhookSecretFile: \(secret)\n", in: directory)
        #expect(again.items.isEmpty, "\(again)")
        #expect(loaded?.webhookSecretFile == secret)
    }

    @Test("a file the configuration names must exist, unless file checks are off")
    func missingNamedFile() throws {
        let directory = try ScratchDirectory(prefix: "agent-config")
        let text = Self.minimal + "  sshKey: \(directory.path)/id_missing\n"
        let (config, diagnostics) = try Self.load(text, in: directory)
        #expect(config == nil)
        #expect(diagnostics.items.map(\.path) == ["source.sshKey"])
        #expect(diagnostics.items.first?.location.line == 6)
        #expect(diagnostics.items.first?.message.contains("No such file") == true, "\(diagnostics)")

        let (unchecked, none) = AgentConfigLoader.load(text: text, file: "agent.yaml", fileChecks: false)
        #expect(none.items.isEmpty, "\(none)")
        #expect(unchecked?.source.sshKey == "\(directory.path)/id_missing")
    }

    @Test("a missing configuration file is an error naming it")
    func missingFile() {
        let (config, diagnostics) = AgentConfigLoader.load(path: "/nonexistent/virtsync/agent.yaml")
        #expect(config == nil)
        #expect(diagnostics.items.count == 1)
        #expect(diagnostics.items.first?.location.file == "/nonexistent/virtsync/agent.yaml")
        #expect(diagnostics.description.contains("does not exist"))
    }

    @Test("malformed YAML is an error with the file and position")
    func malformedYAML() {
        let (config, diagnostics) = AgentConfigLoader.load(text: Self.minimal + "reconcile: [unclosed\n", file: "agent.yaml")
        #expect(config == nil)
        #expect(diagnostics.items.count == 1)
        #expect(diagnostics.items.first?.location.file == "agent.yaml")
        #expect((diagnostics.items.first?.location.line ?? 0) >= 6)
        #expect(diagnostics.items.first?.message.hasPrefix("malformed YAML") == true)
    }

    @Test("an empty file or a second document is an error")
    func documentCount() {
        let (empty, emptyDiagnostics) = AgentConfigLoader.load(text: "# nothing\n", file: "agent.yaml")
        #expect(empty == nil)
        #expect(emptyDiagnostics.description.contains("empty file"))
        let (two, twoDiagnostics) = AgentConfigLoader.load(text: Self.minimal + "---\n" + Self.minimal, file: "agent.yaml")
        #expect(two == nil)
        #expect(twoDiagnostics.items.map(\.location.line) == [7])
    }

    @Test("the example in examples/agent loads without any diagnostic")
    func exampleLoads() throws {
        let path = Self.repositoryRoot.appendingPathComponent("examples/agent/agent.yaml").path
        let (loaded, diagnostics) = AgentConfigLoader.load(path: path, fileChecks: false)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let config = try #require(loaded)
        #expect(config.host == "node-1")
        #expect(config.source.allowedSigners != nil)
        #expect(config.webhookSecretFile != nil)
    }

    @Test("specs/agent-config.md documents every key, and its examples load")
    func documentation() throws {
        let text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("specs/agent-config.md"), encoding: .utf8)
        let keys = AgentConfigLoader.keyPaths
        #expect(keys.count == 66)
        for key in keys {
            #expect(text.contains("| `\(key)` |"), "specs/agent-config.md has no row for \(key)")
        }
        let blocks = MarkdownBlocks.yaml(in: text)
        #expect(blocks.count == 2)
        for (index, block) in blocks.enumerated() {
            let (config, diagnostics) = AgentConfigLoader.load(text: block, file: "agent-config.md#\(index + 1)", fileChecks: false)
            #expect(diagnostics.items.isEmpty, "\(diagnostics)")
            #expect(config != nil)
        }
    }
}

/// A minimal configuration with one mistake, and the error it must give.
struct Mistake: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let line: Int
    let path: String
    let message: String

    var testDescription: String { name }

    /// The minimal file with `extra` appended (from line 6).
    init(_ name: String, appending extra: String, line: Int, path: String, _ message: String) {
        self.init(name, text: AgentConfigTests.minimal + extra, line: line, path: path, message)
    }

    init(_ name: String, text: String, line: Int, path: String, _ message: String) {
        self.name = name
        self.text = text
        self.line = line
        self.path = path
        self.message = message
    }

    static let all: [Mistake] = [
        Mistake("wrong apiVersion", text: AgentConfigTests.minimal.replacingOccurrences(of: "virtsync/v1", with: "virtsync/v2"),
                line: 1, path: "apiVersion", "expected virtsync/v1"),
        Mistake("wrong kind", text: AgentConfigTests.minimal.replacingOccurrences(of: "AgentConfig", with: "Host"),
                line: 2, path: "kind", "expected AgentConfig"),
        Mistake("missing host", text: AgentConfigTests.minimal.replacingOccurrences(of: "host: node-1\n", with: ""),
                line: 1, path: "host", "missing required key 'host'"),
        Mistake("bad host name", text: AgentConfigTests.minimal.replacingOccurrences(of: "node-1", with: "node/1"),
                line: 3, path: "host", "must not contain '/'"),
        Mistake("missing repo", text: AgentConfigTests.minimal.replacingOccurrences(
                    of: "  repo: ssh://git@git.example.com/infra/cluster.git", with: "  ref: main"),
                line: 5, path: "source.repo", "missing required key 'repo'"),
        Mistake("unknown top-level key", appending: "sauce: x\n", line: 6, path: "sauce", "did you mean 'source'?"),
        Mistake("absolute source path", appending: "  path: /clusters\n", line: 6, path: "source.path", "relative"),
        Mistake("source path escaping the repository", appending: "  path: clusters/../../etc\n", line: 6, path: "source.path", "'..'"),
        Mistake("relative key path", appending: "  sshKey: id_ed25519\n", line: 6, path: "source.sshKey", "must be absolute"),
        Mistake("bad ref", appending: "  ref: -main\n", line: 6, path: "source.ref", "must not start with '-'"),
        Mistake("token file and variable", appending: "  tokenFile: /etc/virtsync/token\n  tokenEnv: TOKEN\n",
                line: 7, path: "source.tokenEnv", "keep one"),
        Mistake("bad variable name", appending: "  tokenEnv: 1TOKEN\n", line: 6, path: "source.tokenEnv", "environment variable"),
        Mistake("fetch timeout too long", appending: "  fetchTimeout: 1h\n", line: 6, path: "source.fetchTimeout", "out of range"),
        Mistake("duration without unit", appending: "libvirt:\n  callTimeout: 30\n", line: 7, path: "libvirt.callTimeout", "no unit"),
        Mistake("bad libvirt URI", appending: "libvirt:\n  uri: qemu\n", line: 7, path: "libvirt.uri", "not a libvirt URI"),
        Mistake("interval too short", appending: "reconcile:\n  interval: 2s\n", line: 7, path: "reconcile.interval", "out of range"),
        Mistake("jitter too large", appending: "reconcile:\n  jitter: 60%\n", line: 7, path: "reconcile.jitter", "0% to 50%"),
        Mistake("jitter without %", appending: "reconcile:\n  jitter: 10\n", line: 7, path: "reconcile.jitter", "not a percentage"),
        Mistake("backoff initial above max", appending: "reconcile:\n  backoff: {initial: 10m, max: 5m}\n",
                line: 7, path: "reconcile.backoff.initial", "longer than the maximum"),
        Mistake("prune not a boolean", appending: "reconcile:\n  prune: maybe\n", line: 7, path: "reconcile.prune", "true or false"),
        Mistake("parallel out of range", appending: "reconcile:\n  parallel: 0\n", line: 7, path: "reconcile.parallel", "out of range"),
        Mistake("relative state directory", appending: "stateDir: var/lib/virtsync\n", line: 6, path: "stateDir", "absolute"),
        Mistake("relative hosts directory", appending: "hostsDir: hosts\n", line: 6, path: "hostsDir", "absolute"),
        Mistake("listen without port", appending: "http:\n  listen: 127.0.0.1\n", line: 7, path: "http.listen", "has no port"),
        Mistake("listen port out of range", appending: "http:\n  listen: 127.0.0.1:99999\n", line: 7, path: "http.listen", "TCP port"),
        Mistake("IPv6 listen without brackets", appending: "http:\n  listen: ::1:9479\n", line: 7, path: "http.listen", "brackets"),
        Mistake("unknown log level", appending: "log:\n  level: verbose\n", line: 7, path: "log.level", "expected one of trace"),
        Mistake("unknown log format", appending: "log:\n  format: jsn\n", line: 7, path: "log.format", "did you mean 'json'?"),
        Mistake("section that is not a mapping", appending: "libvirt: qemu:///system\n", line: 6, path: "libvirt", "expected a mapping"),
    ]
}

extension ScratchDirectory {
    /// Writes `text` at `relative`, creating directories.
    fileprivate func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }
}
