import Foundation
import VirtsyncCore
import VirtsyncSpec
import Yams

/// Reads the agent's configuration file (one YAML document of kind `AgentConfig`) into an
/// `AgentConfig`, with the same diagnostics as spec files: every problem is reported at once,
/// as `file:line:column: error: key.path: message`, and unknown keys get a "did you mean".
///
/// With `fileChecks` (the default), the files the configuration names must exist, and the
/// webhook secret must not be accessible by group or others. Pass `fileChecks: false` to check
/// a configuration meant for another machine (or an example) without its files; every other
/// check still runs.
public enum AgentConfigLoader {
    /// The only API version this loader reads.
    public static let apiVersion = "virtsync/v1"
    /// The document's kind.
    public static let kind = "AgentConfig"

    /// Reads and checks the file at `path`. A missing or unreadable file, or text that is not
    /// UTF-8 YAML, is an error naming the file. The configuration is nil when any error was
    /// found; warnings come with a configuration.
    public static func load(path: String, fileChecks: Bool = true) -> (AgentConfig?, Diagnostics) {
        let reporter = Reporter()
        let location = SourceLocation(file: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            reporter.error(location, "", "no such file: the agent configuration \(path.quotedForMessage) does not exist")
            return (nil, Diagnostics(reporter.items))
        }
        guard !isDirectory.boolValue else {
            reporter.error(location, "", "\(path.quotedForMessage) is a directory; expected the agent configuration file")
            return (nil, Diagnostics(reporter.items))
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            reporter.error(location, "", "cannot read the agent configuration: \(error.localizedDescription)")
            return (nil, Diagnostics(reporter.items))
        }
        guard let text = YAMLDocuments.text(of: SpecFile(path: path, bytes: bytes), reporter: reporter) else {
            return (nil, Diagnostics(reporter.items))
        }
        return load(text: text, file: path, fileChecks: fileChecks)
    }

    /// Reads and checks `text`, reporting positions in `file`. Paths inside the text are
    /// checked on this machine unless `fileChecks` is false.
    public static func load(text: String, file: String, fileChecks: Bool = true) -> (AgentConfig?, Diagnostics) {
        let reporter = Reporter()
        var roots: [Node] = []
        let parsed = YAMLDocuments.forEach(in: text, file: file, reporter: reporter) { root, _ in roots.append(root) }
        guard parsed else { return (nil, Diagnostics(reporter.items)) }
        guard let root = roots.first else {
            reporter.error(SourceLocation(file: file), "",
                           "empty file: expected one document with apiVersion: \(apiVersion) and kind: \(kind)")
            return (nil, Diagnostics(reporter.items))
        }
        if roots.count > 1 {
            reporter.error(roots[1].location(in: file), "",
                           "the agent configuration is one YAML document; found \(roots.count)")
        }
        var reader = Reader(file: file, reporter: reporter, fileChecks: fileChecks)
        let config = reader.read(root)
        return (reporter.hasErrors ? nil : config, Diagnostics(reporter.items))
    }

    /// Every key path the file may contain (`host`, `source.repo`, `reconcile.backoff.max`, ...),
    /// in the documented order; also the keys of `AgentConfig.locations`.
    public static var keyPaths: [String] {
        var paths: [String] = []
        func add(_ keys: KeySet, under prefix: String) {
            for key in keys.ordered {
                let path = prefix.isEmpty ? key : prefix + "." + key
                paths.append(path)
                if let nested = Reader.sections[path] { add(nested, under: path) }
            }
        }
        add(Reader.rootKeys, under: "")
        return paths
    }
}

extension AgentConfigLoader {
    /// One reading of a configuration document: the checks of each section, and where each key was.
    struct Reader {
        static let rootKeys = KeySet(["apiVersion", "kind", "host", "source", "libvirt", "reconcile", "stateDir", "hostsDir", "imageCache", "http", "ha", "log", "secrets"])
        static let sourceKeys = KeySet(["repo", "ref", "path", "allowedSigners", "sshKey", "knownHosts", "httpsUser",
                                        "tokenFile", "tokenEnv", "caFile", "fetchTimeout"])
        static let libvirtKeys = KeySet(["uri", "callTimeout", "shutdownTimeout"])
        static let reconcileKeys = KeySet(["interval", "jitter", "debounce", "resync", "backoff", "prune", "allowMassDelete",
                                           "allowHistoryRewrite", "parallel"])
        static let backoffKeys = KeySet(["initial", "max"])
        static let httpKeys = KeySet(["listen", "webhookSecretFile", "tokenFile", "writeTokenFile", "tls"])
        static let tlsKeys = KeySet(["certificateFile", "keyFile"])
        static let logKeys = KeySet(["level", "format"])
        static let secretsKeys = KeySet(["directory", "ageIdentity", "digestKey"])
        /// The key set of each mapping-valued key path.
        static let sections: [String: KeySet] = ["source": sourceKeys, "libvirt": libvirtKeys, "reconcile": reconcileKeys,
                                                 "reconcile.backoff": backoffKeys, "http": httpKeys, "http.tls": tlsKeys,
                                                 "ha": haKeys, "ha.etcd": etcdKeys, "ha.watchdog": watchdogKeys, "log": logKeys,
                                                 "secrets": secretsKeys]

        /// The log levels `log.level` accepts, least severe first.
        enum LogLevel: String, CaseIterable, Sendable {
            case trace, debug, info, notice, warning, error
        }

        let file: String
        let reporter: Reporter
        let fileChecks: Bool
        private(set) var locations: [String: SourceLocation] = [:]

        init(file: String, reporter: Reporter, fileChecks: Bool) {
            self.file = file
            self.reporter = reporter
            self.fileChecks = fileChecks
        }

        /// The configuration in `root`, with defaults for what is absent. Meaningful only when no
        /// error was reported.
        mutating func read(_ root: Node) -> AgentConfig? {
            guard checkHeader(root), let map = MapReader(root, file: file, path: "", keys: Self.rootKeys, reporter: reporter) else {
                return nil
            }
            record(map, Self.rootKeys)
            var config = AgentConfig(host: "", source: AgentConfig.Source(repo: ""), file: file)
            if let host = map.string("host", required: true) {
                if host.value != "local", let problem = Formats.nameProblem(host.value) {
                    reporter.error(host.location, "host", problem + " (the name of a Host document, or local)")
                }
                config.host = host.value
            }
            if let source = map.map("source", keys: Self.sourceKeys, required: true) {
                config.source = readSource(source)
            }
            if let libvirt = map.map("libvirt", keys: Self.libvirtKeys) {
                record(libvirt, Self.libvirtKeys)
                if let uri = libvirt.string("uri") {
                    if let problem = Formats.uriProblem(uri.value) {
                        reporter.error(uri.location, libvirt.keyPath("uri"), problem)
                    }
                    config.libvirtURI = uri.value
                }
                config.callTimeout = libvirt.duration("callTimeout", range: 1...600)?.value ?? config.callTimeout
                config.shutdownTimeout = libvirt.duration("shutdownTimeout", range: 0...3600)?.value ?? config.shutdownTimeout
            }
            if let reconcile = map.map("reconcile", keys: Self.reconcileKeys) {
                readReconcile(reconcile, into: &config)
            }
            config.stateDirectory = absolutePath(map, "stateDir") ?? config.stateDirectory
            config.hostsDirectory = absolutePath(map, "hostsDir") ?? config.hostsDirectory
            config.imageCache = absolutePath(map, "imageCache") ?? config.imageCache
            if let http = map.map("http", keys: Self.httpKeys) {
                record(http, Self.httpKeys)
                config.webhookSecretFile = secretFile(http, "webhookSecretFile")
                config.httpTokenFile = secretFile(http, "tokenFile")
                config.httpWriteTokenFile = secretFile(http, "writeTokenFile")
                if let tls = http.map("tls", keys: Self.tlsKeys) {
                    record(tls, Self.tlsKeys)
                    let certificate = existingFile(tls, "certificateFile", required: true)
                    let key = secretFile(tls, "keyFile", required: true)
                    if let certificate, let key { config.httpTLS = AgentConfig.TLS(certificateFile: certificate, keyFile: key) }
                }
                if let listen = http.string("listen") {
                    config.listen = readListen(listen, path: http.keyPath("listen"),
                                               token: http.has("tokenFile") || http.has("writeTokenFile"), tls: http.has("tls"))
                }
            }
            if let ha = map.map("ha", keys: Self.haKeys) {
                config.ha = readHA(ha)
            }
            if let secrets = map.map("secrets", keys: Self.secretsKeys) {
                record(secrets, Self.secretsKeys)
                config.secrets.directory = absolutePath(secrets, "directory") ?? config.secrets.directory
                // The identity must be there and closed to others now; a missing digest key is made later.
                config.secrets.ageIdentity = secretFile(secrets, "ageIdentity")
                config.secrets.digestKey = absolutePath(secrets, "digestKey") ?? config.secrets.digestKey
            }
            if let log = map.map("log", keys: Self.logKeys) {
                record(log, Self.logKeys)
                config.logLevel = log.choice("level", LogLevel.allCases)?.value.rawValue ?? config.logLevel
                config.logFormat = log.choice("format", AgentConfig.LogFormat.allCases)?.value ?? config.logFormat
            }
            config.locations = locations
            return config
        }

        /// Checks `apiVersion` and `kind`; false when the document is not an agent configuration
        /// (its keys would only produce noise).
        private func checkHeader(_ root: Node) -> Bool {
            let expected = "apiVersion: \(AgentConfigLoader.apiVersion) and kind: \(AgentConfigLoader.kind)"
            guard case .mapping(let mapping) = root else {
                reporter.error(root.location(in: file), "", "expected a mapping with \(expected), got \(NodeValue.describe(root))")
                return false
            }
            var found: [String: Node] = [:]
            for (key, value) in mapping {
                if let name = key.scalar?.string, name == "apiVersion" || name == "kind" { found[name] = value }
            }
            var usable = true
            for (key, wanted) in [("apiVersion", AgentConfigLoader.apiVersion), ("kind", AgentConfigLoader.kind)] {
                guard let node = found[key] else {
                    reporter.error(root.location(in: file), key, "missing required key '\(key)' (\(wanted))")
                    continue
                }
                guard node.scalar?.string == wanted else {
                    var message = "unsupported \(key) \(NodeValue.describe(node)); expected \(wanted)"
                    if key == "kind" { message += " (spec documents belong in the repository, not in the agent's configuration)" }
                    reporter.error(node.location(in: file), key, message)
                    usable = false
                    continue
                }
            }
            return usable
        }

        private mutating func readSource(_ source: MapReader) -> AgentConfig.Source {
            record(source, Self.sourceKeys)
            var result = AgentConfig.Source(repo: "")
            if let repo = source.string("repo", required: true) {
                if repo.value.isEmpty || repo.value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) {
                    reporter.error(repo.location, source.keyPath("repo"),
                                   "\(repo.value.quotedForMessage) is not a repository URL such as ssh://git@host/org/repo.git")
                }
                result.repo = repo.value
            }
            if let ref = source.string("ref") {
                if let problem = Self.refProblem(ref.value) {
                    reporter.error(ref.location, source.keyPath("ref"), problem)
                }
                result.ref = ref.value
            }
            result.path = relativePath(source, "path") ?? result.path
            result.allowedSigners = existingFile(source, "allowedSigners")
            result.sshKey = existingFile(source, "sshKey")
            result.knownHosts = existingFile(source, "knownHosts")
            if let user = source.string("httpsUser") {
                if user.value.isEmpty || user.value.contains(":") || user.value.unicodeScalars.contains(where: { $0.value < 0x20 }) {
                    reporter.error(user.location, source.keyPath("httpsUser"),
                                   "\(user.value.quotedForMessage) is not a user name (it must not be empty or contain ':')")
                }
                result.httpsUser = user.value
            }
            result.tokenFile = existingFile(source, "tokenFile")
            if let variable = source.string("tokenEnv") {
                if !Self.isEnvironmentName(variable.value) {
                    reporter.error(variable.location, source.keyPath("tokenEnv"),
                                   "\(variable.value.quotedForMessage) is not an environment variable name (letters, digits and '_', not starting with a digit)")
                } else if source.has("tokenFile") {
                    reporter.error(variable.location, source.keyPath("tokenEnv"),
                                   "'tokenEnv' and 'tokenFile' both give the https token; keep one")
                }
                result.tokenEnv = variable.value
            }
            result.caFile = existingFile(source, "caFile")
            result.fetchTimeout = source.duration("fetchTimeout", range: 1...600)?.value ?? result.fetchTimeout
            return result
        }

        private mutating func readReconcile(_ reconcile: MapReader, into config: inout AgentConfig) {
            record(reconcile, Self.reconcileKeys)
            config.interval = reconcile.duration("interval", range: 5...86_400)?.value ?? config.interval
            config.jitter = percentage(reconcile, "jitter", max: 50) ?? config.jitter
            config.debounce = reconcile.duration("debounce", range: 0...60)?.value ?? config.debounce
            config.resync = reconcile.duration("resync", range: 0...86_400)?.value ?? config.resync
            if let backoff = reconcile.map("backoff", keys: Self.backoffKeys) {
                record(backoff, Self.backoffKeys)
                let initial = backoff.duration("initial", range: 1...3600)
                let max = backoff.duration("max", range: 1...86_400)
                config.backoffInitial = initial?.value ?? config.backoffInitial
                config.backoffMax = max?.value ?? config.backoffMax
                if config.backoffInitial > config.backoffMax {
                    let location = initial?.location ?? max?.location ?? backoff.location
                    reporter.error(location, backoff.keyPath(initial != nil ? "initial" : "max"),
                                   "the initial backoff \(DurationFormat.format(config.backoffInitial)) is longer than the maximum \(DurationFormat.format(config.backoffMax))")
                }
            }
            config.prune = reconcile.bool("prune") ?? config.prune
            config.allowMassDelete = reconcile.bool("allowMassDelete") ?? config.allowMassDelete
            config.allowHistoryRewrite = reconcile.bool("allowHistoryRewrite") ?? config.allowHistoryRewrite
            config.parallel = reconcile.int("parallel", range: 1...64)?.value ?? config.parallel
        }

        // MARK: - Values

        /// Remembers where each present key of `map` was written.
        mutating func record(_ map: MapReader, _ keys: KeySet) {
            for key in keys.ordered where map.has(key) {
                locations[map.keyPath(key)] = map.valueLocation(key)
            }
        }

        /// `10%` as a fraction (0.1), within 0...`max` percent.
        private func percentage(_ map: MapReader, _ key: String, max: Double) -> Double? {
            guard let text = map.string(key) else { return nil }
            let value = text.value.trimmingCharacters(in: .whitespaces)
            guard value.hasSuffix("%"), let number = Double(value.dropLast()), number.isFinite else {
                reporter.error(text.location, map.keyPath(key), "\(text.value.quotedForMessage) is not a percentage; write e.g. 10%")
                return nil
            }
            guard (0...max).contains(number) else {
                reporter.error(text.location, map.keyPath(key), "\(value) is out of range; expected 0% to \(Int(max))%")
                return nil
            }
            return number / 100
        }

        /// An absolute, normalized path.
        func absolutePath(_ map: MapReader, _ key: String, required: Bool = false) -> String? {
            guard let path = map.string(key, required: required) else { return nil }
            if let problem = Formats.absolutePathProblem(path.value) {
                reporter.error(path.location, map.keyPath(key), problem)
                return nil
            }
            return Formats.normalizedPath(path.value)
        }

        /// A path inside the repository: relative, without `..`; normalized (`./a//b/` → `a/b`).
        private func relativePath(_ map: MapReader, _ key: String) -> String? {
            guard let path = map.string(key) else { return nil }
            let shown = path.value.quotedForMessage
            let problem: String?
            if path.value.isEmpty {
                problem = "the path must not be empty; write . for the repository's root"
            } else if path.value.hasPrefix("/") {
                problem = "path \(shown) must be relative to the repository's root"
            } else if path.value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problem = "path \(shown) contains a control character"
            } else if path.value.split(separator: "/").contains("..") {
                problem = "path \(shown) must not contain '..': the spec must stay inside the repository"
            } else {
                problem = nil
            }
            if let problem {
                reporter.error(path.location, map.keyPath(key), problem)
                return nil
            }
            let parts = path.value.split(separator: "/").filter { $0 != "." }
            return parts.isEmpty ? "." : parts.joined(separator: "/")
        }

        /// An absolute path to a file that exists (when checking files).
        func existingFile(_ map: MapReader, _ key: String, required: Bool = false) -> String? {
            guard let path = absolutePath(map, key, required: required) else { return nil }
            guard fileChecks else { return path }
            var info = stat()
            guard stat(path, &info) == 0 else {
                let reason = String(cString: strerror(errno))
                reporter.error(map.valueLocation(key), map.keyPath(key), "cannot use \(path.quotedForMessage): \(reason)")
                return nil
            }
            // S_IFMT / S_IFREG: only regular files (or symbolic links to them) hold keys and secrets.
            guard info.st_mode & 0o170000 == 0o100000 else {
                reporter.error(map.valueLocation(key), map.keyPath(key), "\(path.quotedForMessage) is not a regular file")
                return nil
            }
            return path
        }

        /// An existing file that only its owner can access, as ssh requires of private keys: anyone
        /// who can read the webhook secret can trigger passes, and anyone who can write it can
        /// replace it.
        func secretFile(_ map: MapReader, _ key: String, required: Bool = false) -> String? {
            guard let path = existingFile(map, key, required: required) else { return nil }
            guard fileChecks else { return path }
            var info = stat()
            guard stat(path, &info) == 0 else { return path }
            let permissions = info.st_mode & 0o777
            if permissions & 0o077 != 0 {
                reporter.error(map.valueLocation(key), map.keyPath(key),
                               "permissions \(String(permissions, radix: 8)) of \(path.quotedForMessage) are too open: the secret must not be accessible by group or others (chmod 600)")
                return nil
            }
            return path
        }

        /// `host:port` or `[v6]:port`; nil for `off` or when invalid (reported). A non-loopback
        /// address without `tokenFile` is a warning (the status and metrics would be open to the
        /// network), and with a token but without `tls` too (the token would cross it in clear).
        private func readListen(_ text: Located<String>, path: String, token: Bool, tls: Bool) -> AgentConfig.Listen? {
            if text.value == "off" { return nil }
            switch AgentConfig.Listen.parse(text.value) {
            case .failure(let problem):
                reporter.error(text.location, path, problem.description)
                return nil
            case .success(let listen):
                if !listen.isLoopback && !token {
                    reporter.warning(text.location, path,
                                     "\(listen) is reachable from other machines, and without http.tokenFile anyone there can read /status and /metrics; set http.tokenFile (and http.tls), or listen on 127.0.0.1 behind a reverse proxy")
                } else if !listen.isLoopback && !tls {
                    reporter.warning(text.location, path,
                                     "\(listen) is reachable from other machines and http.tls is not set: the bearer token crosses the network in clear")
                }
                return listen
            }
        }

        /// Why `ref` cannot name a branch or tag, if so: the rules of git-check-ref-format that
        /// matter here, and no leading '-' (it would read as an option).
        private static func refProblem(_ ref: String) -> String? {
            let shown = ref.quotedForMessage
            if ref.isEmpty { return "ref must not be empty; leave it out to follow the remote's default branch" }
            if ref.hasPrefix("-") { return "ref \(shown) must not start with '-'" }
            if ref.contains("..") || ref.hasSuffix("/") || ref.hasSuffix(".lock") || ref.hasPrefix("/") || ref.contains("//")
                || ref.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || "~^:?*[\\".unicodeScalars.contains($0) }) {
                return "ref \(shown) is not a valid branch or tag name"
            }
            return nil
        }

        private static func isEnvironmentName(_ name: String) -> Bool {
            guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
            return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        }
    }

}
