import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import VirtsyncCore
import VirtsyncEngine
import VirtsyncGit
import VirtsyncLibvirt
import VirtsyncAgent
import VirtsyncHTTP
import VirtsyncImages
import VirtsyncSecrets
import VirtsyncSpec
import VirtsyncEtcd

/// `virtsync agent`: wires the loop to git, libvirt, the HTTP endpoint (Hummingbird), systemd and signals, and
/// runs until SIGTERM or SIGINT.
public enum AgentService {
    /// Why the agent could not start; the message names the file and field where one applies.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs the agent with a loaded configuration until it is told to stop.
    /// - Throws: `StartError` when it cannot start (lock held, bad repository URL, port in use).
    public static func run(_ config: AgentConfig, clock: any AgentClock = SystemAgentClock()) async throws {
        let logger = Logger(label: "virtsync.agent")
        let files = AgentFiles(stateDirectory: config.stateDirectory)
        let lock: ApplyLock
        do {
            lock = try ApplyLock(stateDirectory: config.stateDirectory)
        } catch {
            throw StartError("another virtsync (agent or apply) holds \(config.stateDirectory)/lock: only one agent runs per state directory")
        }
        defer { lock.release() }

        let (follower, sourceLabel) = try makeFollower(config)
        let inventory = try InventoryStore(directory: HostsDirectory.resolve(config.hostsDirectory), legacyStateDirectory: config.stateDirectory)
        let options = LibvirtSessionOptions(callTimeout: .seconds(config.callTimeout),
                                            shutdownTimeout: .milliseconds(Int64(config.shutdownTimeout * 1000)))

        var ledger = RestartLedger()
        do {
            ledger = try RestartLedger.read(path: files.restarts)
        } catch {
            logger.error("restart ledger unreadable; starting from an empty one", metadata: ["error": "\(error)"])
        }
        var status = AgentStatus(host: config.host, source: sourceLabel, pid: getpid(), startedAt: clock.wallNow())
        if let previous = try? AgentStatus.read(path: files.status) {
            // History and the commits applied survive restarts: a status read before the
            // first pass of this process names the commit that is still in force.
            status.passes = previous.passes
            status.lastApplied = previous.lastApplied
            status.lastAttempted = previous.lastAttempted
        }
        let state = AgentState(status: status, files: files, clock: clock)
        if let suspension = state.refreshSuspension() {
            logger.notice("suspended: passes apply nothing until virtsync resume", metadata: ["since": "\(suspension.summary)"])
        }
        // Anything instrumented with swift-metrics reports into the agent's registry.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: state.metrics.registry))
        let webhookSecret = try config.webhookSecretFile.map { try readSecret($0, what: "webhook secret") }

        let router = EventRouter(state: state)
        let connector = AgentConnector(base: LibvirtConnector(options: options), host: config.host, uri: config.libvirtURI,
                                       resync: .milliseconds(Int64(config.resync * 1000)), onRead: { full, domains in
            state.metrics.observedRead(full: full, domains: domains)
        }) { session in
            state.metrics.set(AgentMetrics.connected, 1)
            logger.info("connected to libvirt", metadata: ["uri": "\(session.uri)"])
            router.subscribe(session)
        }
        let workflow = ApplyWorkflow(connector: connector, inventory: inventory, defaultURI: config.libvirtURI)
        let ha = try config.ha.map { settings in
            try HAComposition.make(config: config, settings: settings, state: state,
                                   // A start under load can take seconds: a short deadline only made
                                   // HA retry starts that had worked (the fence never waits on it).
                                   options: LibvirtSessionOptions(connectTimeout: .seconds(5), callTimeout: .seconds(config.callTimeout)),
                                   logger: logger)
        }
        if let agentHA = ha?.ha {
            // A live migration of an HA VM hands its owner record over with it.
            connector.migrations.set { step, migration, perform in try await agentHA.migrate(step, migration, perform: perform) }
        }
        let pass = ReconcilePass(config: config, follower: follower, workflow: workflow, connector: connector, state: state, clock: clock,
                                 ledger: ledger, ha: ha?.ha,
                                 secrets: HostSecretReader(settings: SecretSettings(directory: config.secrets.directory,
                                                                                    ageIdentity: config.secrets.ageIdentity,
                                                                                    digestKey: config.secrets.digestKey)),
                                 images: ImageCache(directory: config.imageCache ?? (config.stateDirectory as NSString).appendingPathComponent("images")))
        let loop = AgentLoop(runner: pass, clock: clock,
                             timing: AgentTiming(interval: config.interval, jitter: config.jitter, debounce: config.debounce,
                                                 backoffInitial: config.backoffInitial, backoffMax: config.backoffMax),
                             lastPassID: status.passes.map(\.id).max() ?? 0)
        router.attach(loop: loop, pass: pass)

        // A pass that makes no progress for this long is stuck: every libvirt call has a
        // deadline, so only a bug gets here.
        let stallLimit = max(300, config.shutdownTimeout + 4 * config.callTimeout)
        var endpoint: HTTPEndpoint?
        if let listen = config.listen {
            let routes = AgentRoutes(state: state, loop: loop, webhookSecret: webhookSecret, stallLimit: stallLimit, board: ha?.board, clock: clock)
            let token = try config.httpTokenFile.map { try readSecret($0, what: "HTTP token") }
            let writeToken = try config.httpWriteTokenFile.map { try readSecret($0, what: "HTTP write token") }
            let settings = HTTPEndpointConfiguration(
                host: listen.host, port: listen.port,
                tls: config.httpTLS.map { .init(certificateFile: $0.certificateFile, keyFile: $0.keyFile) },
                bearerToken: token, openPaths: AgentRoutes.openPaths, writeToken: writeToken)
            do {
                endpoint = try await HTTPEndpoint.start(settings, logger: Logger(label: "virtsync.http")) { request in
                    await routes.handle(request)
                }
            } catch {
                throw StartError("\(config.locations["http.listen"].map { "\($0): http.listen: " } ?? "")\(error)")
            }
            logger.info("listening", metadata: ["address": "\(HTTPEndpointConfiguration.display(host: listen.host, port: endpoint?.port ?? listen.port))",
                                                "tls": "\(config.httpTLS != nil)", "token": "\(token != nil)"])
        }

        let notifier = SystemdNotifier()
        SystemdStatusLine.report(loop, to: notifier)
        logger.info("agent started", metadata: ["host": "\(config.host)", "source": "\(sourceLabel)", "uri": "\(config.libvirtURI)",
                                                "interval": "\(DurationFormat.format(config.interval))"])
        // The loop, systemd's notifications and SIGHUP as services of one group: SIGTERM or
        // SIGINT shut it down gracefully (the loop finishes the step in flight), and when the
        // loop ends, the others end with it.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: ReconcileLoopService(loop: loop, notifier: notifier, logger: logger),
                      successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: SystemdWatchdogService(notifier: notifier, state: state, stallLimit: stallLimit,
                                                      readyStatus: "following \(sourceLabel) for host \(config.host)"),
                      successTerminationBehavior: .ignore),
                .init(service: ReloadSignalService(loop: loop, notifier: notifier, logger: logger), successTerminationBehavior: .ignore),
            ] + (endpoint.map { [.init(service: HTTPEndpointService(endpoint: $0), successTerminationBehavior: .ignore)] } ?? [])
              + (ha.map { [.init(service: $0.service, successTerminationBehavior: .ignore)] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "virtsync.service")))
        let publisher = ha.map { parts in
            Task { await ReportPublisher(state: state, board: parts.board, clock: clock).run() }
        }
        let etcd = ha.map { parts in
            Task {
                do {
                    try await parts.client.run()
                } catch {
                    logger.error("etcd connections ended", metadata: ["error": "\(error)"])
                }
            }
        }
        if let settings = config.ha {
            logger.info("HA on", metadata: ["etcd": "\(settings.endpoints.map(\.description).joined(separator: ","))",
                                            "leaseTTL": "\(settings.timings.leaseTTL)", "watchdog": "\(settings.watchdogDevice ?? "off")"])
        }
        do {
            try await group.run()
        } catch {
            logger.error("service group ended with an error", metadata: ["error": "\(error)"])
        }
        publisher?.cancel()
        _ = await publisher?.value
        ha?.client.shutdown()
        _ = await etcd?.value

        router.stop()
        try? state.persist()
        logger.notice("agent stopped")
    }

    /// The repository cache, signature verifier and records for the configured source.
    static func makeFollower(_ config: AgentConfig) throws -> (SpecFollower, String) {
        let source = config.source
        let remote: RemoteURL
        do {
            remote = try RemoteURL(source.repo)
        } catch {
            throw StartError("\(config.locations["source.repo"].map { "\($0): " } ?? "")source.repo: \(error)")
        }
        let settings = GitSourceSettings(remote: remote, sshKey: source.sshKey, knownHosts: source.knownHosts, httpsUser: source.httpsUser,
                                         tokenFile: source.tokenFile, tokenEnv: source.tokenEnv, caFile: source.caFile,
                                         allowedSigners: source.allowedSigners, fetchTimeout: .milliseconds(Int64(source.fetchTimeout * 1000)))
        let repositorySource: RepositorySource
        do {
            repositorySource = try settings.source(stateDirectory: config.stateDirectory)
        } catch {
            throw StartError("\(config.file): source: \(error)")
        }
        let records: SourceRecordStore
        do {
            records = try SourceRecordStore(stateDirectory: config.stateDirectory)
        } catch {
            throw StartError("\(error)")
        }
        let key = SourceRecordStore.key(repository: remote.identity, path: source.path)
        let label = remote.description + (source.path == "." ? "" : " (\(source.path))") + (source.ref.map { " @ \($0)" } ?? "")
        return (SpecFollower(config: config, source: repositorySource, records: records, recordKey: key, repositoryIdentity: remote.identity), label)
    }

    /// A secret (the webhook's, the HTTP token): one line, in a file only its owner can read.
    static func readSecret(_ path: String, what: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw StartError("cannot read the \(what) file \(path)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw StartError("the \(what) file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !text.isEmpty else { throw StartError("the \(what) file \(path) is empty") }
        return Array(text.utf8)
    }
}
