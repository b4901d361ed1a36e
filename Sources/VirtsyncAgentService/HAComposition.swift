import Foundation
import Logging
import VirtsyncAgent
import VirtsyncCore
import VirtsyncEngine
import VirtsyncEtcd
import VirtsyncLibvirt

/// HA's adapters, wired for one agent: etcd (`EtcdHACoordinator`), a libvirt connection of its
/// own to this host (a pass in flight never delays a fence), the watchdog device, and the file
/// that lets a restarted agent resume its lease.
enum HAComposition {
    struct Parts {
        let ha: AgentHA
        let service: HAService
        let client: EtcdClient
        /// Where the agents' host reports meet (beside the HA keys in etcd).
        let board: EtcdReportBoard
    }

    static func make(config: AgentConfig, settings: AgentConfig.HA, state: AgentState, options: LibvirtSessionOptions,
                     logger: Logger) throws -> Parts {
        let timings = settings.timings
        let tls = settings.caFile.map {
            EtcdClient.TLS(caFile: $0, certificateFile: settings.certificateFile, keyFile: settings.keyFile)
        }
        // A call must end before the next renewal is due: a slow member is given up for the next.
        let deadline = min(.seconds(2), timings.renewInterval)
        let client: EtcdClient
        do {
            client = try EtcdClient(.init(endpoints: settings.endpoints.map(\.description), deadline: deadline, tls: tls))
        } catch {
            throw AgentService.StartError("\(config.locations["ha.etcd.endpoints"].map { "\($0): " } ?? "")ha.etcd: \(error)")
        }
        var watchdog: FileWatchdog?
        if let device = settings.watchdogDevice {
            do {
                watchdog = try FileWatchdog(path: device, timeout: timings.watchdogTimeout)
            } catch {
                throw AgentService.StartError("\(config.locations["ha.watchdog.device"].map { "\($0): " } ?? "")ha.watchdog.device: \(error)")
            }
        }
        let leaseFile = HALeaseFile(path: config.stateDirectory + "/ha-lease.json")
        let resumed = leaseFile.read(logger: logger)
        let definitions = HADefinitions()
        let domains = DefiningHADomains(
            base: AgentHADomains(uri: config.libvirtURI, options: options, definitions: definitions),
            definitions: definitions, host: config.host,
            define: { step in
                try await AgentHADomains.session(uri: config.libvirtURI, role: AgentHADomains.startRole(), options: options).apply(step)
            })
        let holder = Locked<AgentHA?>(nil)
        let coordinator = EtcdHACoordinator(client: client, prefix: settings.prefix)
        let runner = HARunner(host: config.host, timings: timings, spec: HASpec(), resumed: resumed,
                              coordinator: coordinator,
                              domains: domains, watchdog: watchdog, clock: SystemAgentClock(),
                              persist: { persisted in leaseFile.write(persisted, logger: logger) },
                              observe: { observation in holder.withLock { $0 }?.observe(observation) })
        let ha = AgentHA(runner: runner, definitions: definitions, timings: timings, state: state, failback: settings.failback)
        holder.withLock { $0 = ha }
        if let resumed {
            logger.notice("HA resumes lease \(resumed.lease) persisted by the previous run")
        }
        return Parts(ha: ha, service: HAService(ha: ha, hasWatchdog: watchdog != nil), client: client,
                     board: EtcdReportBoard(coordinator: coordinator))
    }
}

/// HA's libvirt port on the agent: `LibvirtHADomains` for the spec owner the last pass loaded,
/// over connections of HA's own, opened again after a failure. libvirt runs the calls of one
/// connection one after another, so each kind of work has its own: a hard stop (a fence) never
/// waits behind a start or a read, and starts of several VMs taken over at once run side by side.
struct AgentHADomains: HADomainControl {
    let uri: String
    let options: LibvirtSessionOptions
    let definitions: HADefinitions

    /// How many starts run at once.
    static let startConnections = 5
    private static let sessions = SessionCache()
    private static let nextStart = Locked(0)

    /// The connection for `role`: `observe`, `stop`, or `start-N`.
    static func session(uri: String, role: String, options: LibvirtSessionOptions) async throws -> LibvirtSession {
        try await sessions.get(key: "\(role) \(uri)", uri: uri, options: options)
    }

    /// The next start connection, round robin.
    static func startRole() -> String {
        let index = nextStart.withLock { value -> Int in
            defer { value = (value + 1) % startConnections }
            return value
        }
        return "start-\(index)"
    }

    private func run<T>(_ role: String, _ body: (LibvirtHADomains) async throws -> T) async throws -> T {
        guard let owner = definitions.owner else {
            throw EngineError("HA waits for the first pass to load the spec (it cannot yet tell its domains from others')")
        }
        let key = "\(role) \(uri)"
        let session = try await Self.sessions.get(key: key, uri: uri, options: options)
        do {
            return try await body(LibvirtHADomains(session: session, owner: owner))
        } catch {
            // Reconnecting costs milliseconds; a closed connection reports itself in many ways.
            Self.sessions.drop(key: key)
            throw error
        }
    }

    func domains(_ names: Set<String>) async throws -> [String: HALocalDomain] { try await run("observe") { try await $0.domains(names) } }
    func start(vm: String, epoch: Int64) async throws { try await run(Self.startRole()) { try await $0.start(vm: vm, epoch: epoch) } }
    func hardStop(vm: String) async throws { try await run("stop") { try await $0.hardStop(vm: vm) } }
    func mark(vm: String, epoch: Int64) async throws { try await run("observe") { try await $0.mark(vm: vm, epoch: epoch) } }
    func processes(_ names: Set<String>) -> [String: Bool]? { QEMUProcesses(uri: uri)?.alive(names) }

    /// One session per key, opened on first use.
    final class SessionCache: @unchecked Sendable {
        private let lock = NSLock()
        private var sessions: [String: LibvirtSession] = [:]

        func get(key: String, uri: String, options: LibvirtSessionOptions) async throws -> LibvirtSession {
            if let existing = lock.withLock({ sessions[key] }) { return existing }
            let opened = try await LibvirtSession.connect(uri: uri, options: options)
            return lock.withLock {
                if let raced = sessions[key] { return raced }
                sessions[key] = opened
                return opened
            }
        }

        func drop(key: String) { _ = lock.withLock { sessions.removeValue(forKey: key) } }
    }
}

/// The cluster view's board over etcd: host reports beside the HA keys, and the HA records.
struct EtcdReportBoard: ClusterBoard {
    let coordinator: EtcdHACoordinator

    func publish(_ report: HostReport) async throws {
        try await coordinator.publishReport(host: report.host, bytes: Array(try report.json()))
    }

    func reports() async throws -> [String: HostReport] {
        var out: [String: HostReport] = [:]
        for (host, bytes) in try await coordinator.reportBytes() {
            // A report this version cannot read (damaged, or from a newer agent) is left out:
            // its host shows as not reported.
            if let report = try? HostReport.decode(Data(bytes)) { out[host] = report }
        }
        return out
    }

    func details() async throws -> HAClusterDetails { try await coordinator.details() }
}
