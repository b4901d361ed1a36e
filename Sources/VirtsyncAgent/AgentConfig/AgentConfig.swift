import Foundation
import VirtsyncCore
import VirtsyncSpec

/// The agent's configuration (`/etc/virtsync/agent.yaml`, kind `AgentConfig`), as read and
/// checked by `AgentConfigLoader`. Durations are in seconds. `specs/agent-config.md` documents
/// every field, its default and its range; the defaults of `init` are the same.
public struct AgentConfig: Sendable, Equatable {
    /// This host's name in the spec: a `Host` document's name, or `local`.
    public var host: String
    /// Where the spec comes from.
    public var source: Source
    /// The libvirt connection URI (`libvirt.uri`, default `qemu:///system`).
    public var libvirtURI: String
    /// Longest wait for one libvirt call, in seconds (`libvirt.callTimeout`).
    public var callTimeout: Double
    /// Longest wait for a guest's graceful shutdown before it is forced off, in seconds
    /// (`libvirt.shutdownTimeout`).
    public var shutdownTimeout: Double
    /// Time between two reconcile passes when nothing triggers one, in seconds.
    public var interval: Double
    /// Random spread added to each interval, as a fraction of it (0...0.5), so that hosts
    /// sharing a repository do not fetch in step.
    public var jitter: Double
    /// How long triggers (webhook, SIGHUP) are collected into one pass, in seconds.
    public var debounce: Double
    /// How often the agent reads its whole host again whatever libvirt's events said, in
    /// seconds (`reconcile.resync`); between, a pass reads again only the domains an event named.
    /// 0: every pass reads everything.
    public var resync: Double = 300
    /// First wait after a failed pass, in seconds; it doubles per failure up to `backoffMax`.
    public var backoffInitial: Double
    /// Longest wait between failed passes, in seconds.
    public var backoffMax: Double
    /// Whether resources the agent created but the spec no longer lists are deleted.
    public var prune: Bool
    /// Whether a pass may delete more resources than the safety guard allows.
    public var allowMassDelete: Bool
    /// Whether the spec's branch may move to a commit that does not descend from the last
    /// applied one (a force push).
    public var allowHistoryRewrite: Bool
    /// How many independent steps run at once.
    public var parallel: Int
    /// Where the agent keeps its state (`stateDir`).
    public var stateDirectory: String
    /// Where the per-host inventories and host locks are (`hostsDir`); nil: `VIRTSYNC_HOSTS_DIR`
    /// or `/var/lib/virtsync/hosts`, shared with `virtsync apply` on the same machine.
    public var hostsDirectory: String?
    /// Where OS images are kept, named by SHA-256 (`imageCache`); nil: `<stateDir>/images`.
    public var imageCache: String?
    /// The HTTP endpoint's address; nil when `http.listen` is `off`.
    public var listen: Listen?
    /// The file holding the webhook's HMAC secret; nil when the webhook is disabled.
    public var webhookSecretFile: String?
    /// The file holding the bearer token peers on other machines must send (`http.tokenFile`);
    /// nil: none is asked for.
    public var httpTokenFile: String?
    /// The file holding the token that also grants the API's write endpoints to peers on other
    /// machines (`http.writeTokenFile`); nil: writes from this host only.
    public var httpWriteTokenFile: String?
    /// The endpoint's certificate and key (`http.tls`); nil: plain HTTP.
    public var httpTLS: TLS?
    /// High availability (`ha`): etcd, the lease and the watchdog; nil: no HA (a single host,
    /// or a cluster whose HA VMs do not fail over), and no etcd is needed.
    public var ha: HA?
    /// Where this host keeps secrets (`secrets`): the directory of host files, the age identity
    /// and the digest key. Defaults: `/etc/virtsync/secrets`, no identity,
    /// `/etc/virtsync/secret-digest.key`.
    public var secrets = Secrets()
    /// The log level: `trace`, `debug`, `info`, `notice`, `warning` or `error`.
    public var logLevel: String
    /// How log lines are written.
    public var logFormat: LogFormat
    /// The configuration file the values were read from.
    public var file: String
    /// Where each key was written, by key path (`source.repo`, `reconcile.backoff.max`), so that
    /// later checks (the repository URL, the host's name in the spec) can name `file:line`.
    public var locations: [String: SourceLocation]

    /// A configuration with the documented defaults for everything not given.
    public init(host: String, source: Source, libvirtURI: String = "qemu:///system",
                callTimeout: Double = 30, shutdownTimeout: Double = 60,
                interval: Double = 60, jitter: Double = 0.1, debounce: Double = 2,
                backoffInitial: Double = 5, backoffMax: Double = 300,
                prune: Bool = false, allowMassDelete: Bool = false, allowHistoryRewrite: Bool = false,
                parallel: Int = 4, stateDirectory: String = "/var/lib/virtsync", hostsDirectory: String? = nil,
                listen: Listen? = Listen(host: "127.0.0.1", port: 9479), webhookSecretFile: String? = nil,
                logLevel: String = "info", logFormat: LogFormat = .logfmt,
                file: String = "", locations: [String: SourceLocation] = [:]) {
        self.host = host
        self.source = source
        self.libvirtURI = libvirtURI
        self.callTimeout = callTimeout
        self.shutdownTimeout = shutdownTimeout
        self.interval = interval
        self.jitter = jitter
        self.debounce = debounce
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.prune = prune
        self.allowMassDelete = allowMassDelete
        self.allowHistoryRewrite = allowHistoryRewrite
        self.parallel = parallel
        self.stateDirectory = stateDirectory
        self.hostsDirectory = hostsDirectory
        self.listen = listen
        self.webhookSecretFile = webhookSecretFile
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.file = file
        self.locations = locations
    }

    /// The spec repository and how to reach and trust it.
    public struct Source: Sendable, Equatable {
        /// The repository URL (ssh://, https:// or file://), checked by the git module.
        public var repo: String
        /// The branch or tag to follow; nil for the remote's default branch.
        public var ref: String?
        /// The spec's folder inside the repository, relative, normalized (`.` for the root).
        public var path: String
        /// OpenSSH allowed-signers file; when set, only commits signed by these keys are applied.
        public var allowedSigners: String?
        /// Private key for ssh:// URLs.
        public var sshKey: String?
        /// known_hosts file for ssh:// URLs.
        public var knownHosts: String?
        /// User name for https:// URLs with a token.
        public var httpsUser: String?
        /// File holding the https token (exclusive with `tokenEnv`).
        public var tokenFile: String?
        /// Environment variable holding the https token (exclusive with `tokenFile`).
        public var tokenEnv: String?
        /// CA bundle for https:// URLs signed by a private CA.
        public var caFile: String?
        /// Longest wait for one fetch, in seconds.
        public var fetchTimeout: Double

        /// A source with the documented defaults for everything not given.
        public init(repo: String, ref: String? = nil, path: String = ".", allowedSigners: String? = nil,
                    sshKey: String? = nil, knownHosts: String? = nil, httpsUser: String? = nil,
                    tokenFile: String? = nil, tokenEnv: String? = nil, caFile: String? = nil,
                    fetchTimeout: Double = 60) {
            self.repo = repo
            self.ref = ref
            self.path = path
            self.allowedSigners = allowedSigners
            self.sshKey = sshKey
            self.knownHosts = knownHosts
            self.httpsUser = httpsUser
            self.tokenFile = tokenFile
            self.tokenEnv = tokenEnv
            self.caFile = caFile
            self.fetchTimeout = fetchTimeout
        }
    }

    /// The address the HTTP endpoint listens on.
    /// `secrets` of the configuration.
    public struct Secrets: Sendable, Equatable {
        public var directory = "/etc/virtsync/secrets"
        public var ageIdentity: String?
        public var digestKey = "/etc/virtsync/secret-digest.key"
        public init() {}
    }

    public struct Listen: Sendable, Equatable, CustomStringConvertible {
        /// An IPv4 or IPv6 address (without brackets) or a host name.
        public var host: String
        /// The TCP port, 1...65535.
        public var port: Int

        /// An address and port.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Whether only this machine can reach the endpoint: `localhost`, 127.0.0.0/8 or `::1`.
        public var isLoopback: Bool {
            let lowered = host.lowercased()
            if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
            let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
            return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
        }

        /// `host:port`, with brackets around an IPv6 address (`[::1]:9479`).
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The certificate chain and key of an HTTPS endpoint (PEM files).
    public struct TLS: Sendable, Equatable {
        /// The certificate followed by any intermediates.
        public var certificateFile: String
        /// The certificate's private key.
        public var keyFile: String

        /// A certificate chain and its key.
        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable, Equatable, CaseIterable {
        /// `key=value` pairs, one line per event, for journald and humans.
        case logfmt
        /// One JSON object per line, for log shippers.
        case json
    }
}

extension AgentConfig.Listen {
    /// Parses `host:port` or `[v6]:port` (`http.listen`); the host is an IPv4 or bracketed
    /// IPv6 address, or a host name, and the port is 1...65535.
    static func parse(_ text: String) -> Result<AgentConfig.Listen, ParseError> {
        let example = "write host:port, e.g. 127.0.0.1:9479 or [::1]:9479, or off"
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(ParseError("\(text.quotedForMessage) is not an address; \(example)"))
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
            guard isIPv6(host) else { return .failure(ParseError("\(host.quotedForMessage) is not an IPv6 address")) }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(ParseError("\(text.quotedForMessage) has no port; \(example)"))
            }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(ParseError("\(text.quotedForMessage): an IPv6 address needs brackets, e.g. [::1]:9479"))
            }
            if host.isEmpty {
                return .failure(ParseError("\(text.quotedForMessage) has no address; write 0.0.0.0:\(portText) to listen on every IPv4 address"))
            }
            let dotted = host.allSatisfy { $0 == "." || ($0.isASCII && $0.isNumber) }
            if dotted ? Formats.parseIPv4(host) == nil : Formats.hostnameProblem(host) != nil {
                return .failure(ParseError("\(host.quotedForMessage) is not an IPv4 address or a host name"))
            }
        }
        guard let port = Int(portText), (1...65_535).contains(port) else {
            return .failure(ParseError("\(String(portText).quotedForMessage) is not a TCP port (1...65535)"))
        }
        return .success(AgentConfig.Listen(host: host, port: port))
    }

    private static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// Why an `http.listen` value could not be read.
    struct ParseError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
