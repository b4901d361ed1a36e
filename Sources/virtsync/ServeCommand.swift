import ArgumentParser
import Foundation
import VirtsyncAgentService
import VirtsyncCore
import VirtsyncEngine
import VirtsyncHTTP

/// `virtsync serve`: the dashboard and the REST API for a whole cluster, for operators without an
/// agent on every host. It reads every host of the spec on an interval, with reader ports only.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the cluster dashboard and the REST API for a spec's hosts. Changes nothing.",
        discussion: """
        Reads every host of the spec on an interval (read-only libvirt connections: it can never \
        change a host), plans as a dry run, and serves the dashboard at / and the API at /api/v1 \
        (described by /openapi.yaml). On loopback the API is open; on any other address it needs \
        --api-token-file, and --tls-cert/--tls-key serve HTTPS. It has no write endpoints.

        Examples:
          virtsync serve examples/cluster --listen 127.0.0.1:9480
          virtsync serve --repo ssh://git@forge/infra.git --path cluster --listen 0.0.0.0:9480 \\
              --api-token-file /etc/virtsync/api-token --tls-cert cert.pem --tls-key key.pem
        """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var host: HostOptions
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "Address to listen on: host:port or [v6]:port (port 0: any free port, printed on stdout).")
    var listen: String = "127.0.0.1:9480"

    @Option(name: .long, help: "Seconds between two reads of the cluster.")
    var interval: Double = 10

    @Option(name: .long, help: "File holding the bearer token callers on other machines must send (one line, mode 600).")
    var apiTokenFile: String?

    @Option(name: .long, help: "TLS certificate chain (PEM).")
    var tlsCert: String?

    @Option(name: .long, help: "TLS private key (PEM).")
    var tlsKey: String?

    func validate() throws {
        try source.requireSource()
        if interval < 1 { throw ValidationError("--interval must be at least 1 second") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give --tls-cert and --tls-key together") }
        let address = try Self.address(listen)
        if !Self.isLoopback(address.host) && apiTokenFile == nil {
            throw ValidationError("--listen \(listen) is not a loopback address: give --api-token-file, so other machines must send a token")
        }
    }

    /// `host:port` or `[v6]:port`.
    static func address(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): write host:port, e.g. 127.0.0.1:9480 or [::1]:9480")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen \(text) has no address; write 0.0.0.0:\(port) for every IPv4 address") }
        return (host, port)
    }

    static func isLoopback(_ host: String) -> Bool { host.hasPrefix("127.") || host == "::1" || host == "localhost" }

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        let address = try Self.address(listen)
        var endpoint = HTTPEndpointConfiguration(host: address.host, port: address.port)
        do {
            endpoint.bearerToken = try apiTokenFile.map { try Self.token($0) }
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        if let tlsCert, let tlsKey { endpoint.tls = .init(certificateFile: tlsCert, keyFile: tlsKey) }
        if !Self.isLoopback(address.host) && tlsCert == nil {
            Environment.printError("warning: --listen \(listen) is reachable from other machines without --tls-cert: the token and the cluster's data cross the network in clear")
        }
        // Its own state directory (the repository cache): never the one an agent on this host holds.
        var host = host
        if host.stateDir == nil && Environment.value("VIRTSYNC_STATE_DIR") == nil {
            host.stateDir = host.resolvedStateDir + "/serve"
        }
        let source = source, secrets = secrets
        let settings = ServeService.Settings(endpoint: endpoint, interval: .milliseconds(Int64(interval * 1000)), source: source.label)
        let options = host
        do {
            try await ServeService.run(settings, read: { await Self.read(source, host: options, secrets: secrets) }) { port in
                // Written at once (not buffered): a script waiting for the port reads this line.
                FileHandle.standardOutput.write(Data("listening on \(HTTPEndpointConfiguration.display(host: address.host, port: port))\n".utf8))
            }
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }

    /// One read: the spec, every host (read-only), the dry-run plan; or why the spec could not be read.
    static func read(_ source: SourceOptions, host: HostOptions, secrets: SecretOptions)
        async -> (desired: DesiredState?, observed: ObservedState, plan: Plan?, commit: String?, failure: Banner?) {
        do {
            let reconciler = try Frontend.reconciler(host)
            let loaded = try await Frontend.load(source, stateDir: host.resolvedStateDir)
            let commit = loaded.provenance?.commit.id.hex
            guard var desired = loaded.desired else {
                let first = loaded.diagnostics.items.first { $0.severity == .error }
                return (nil, ObservedState(), nil, commit,
                        Banner.stalled(host: nil, reason: "InvalidSpec", message: first?.description ?? loaded.diagnostics.description,
                                       location: first?.location, commit: commit, kind: "invalid-spec"))
            }
            desired = await secrets.reader.bind(desired)
            try Frontend.applyConnect(&desired, host)
            let (_, _, observed) = await reconciler.read(desired, prefetch: nil)
            var plan = await reconciler.plan(desired, observed: observed, options: Frontend.planOptions(source, host, uri: reconciler.defaultURI))
            Frontend.annotate(&plan, loaded.provenance)
            return (ClusterViewBuilder.placed(desired, observed: observed), observed, plan, commit, nil)
        } catch {
            return (nil, ObservedState(), nil, nil,
                    Banner(kind: "invalid-spec", severity: "error", message: "the spec cannot be read: \(error)"))
        }
    }

    /// A token file: one line.
    static func token(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EngineError("--api-token-file: cannot read \(path)") }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains("\n") else { throw EngineError("--api-token-file: \(path) must hold one non-empty line") }
        return Array(token.utf8)
    }
}
