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
        let leaseFile = config.stateDirectory + "/ha-lease.json"
        let resumed = readLease(leaseFile, logger: logger)
        let definitions = HADefinitions()
        let domains = DefiningHADomains(
            base: AgentHADomains(uri: config.libvirtURI, options: options, definitions: definitions),
            definitions: definitions, host: config.host,
            define: { step in try await AgentHADomains.session(uri: config.libvirtURI, options: options).apply(step) })
        let holder = Locked<AgentHA?>(nil)
        let runner = HARunner(host: config.host, timings: timings, spec: HASpec(), resumed: resumed,
                              coordinator: EtcdHACoordinator(client: client, prefix: settings.prefix),
                              domains: domains, watchdog: watchdog, clock: SystemAgentClock(),
                              persist: { persisted in writeLease(persisted, to: leaseFile, logger: logger) },
                              observe: { observation in holder.value?.observe(observation) })
        let ha = AgentHA(runner: runner, definitions: definitions, timings: timings, state: state)
        holder.value = ha
        if let resumed {
            logger.notice("HA resumes lease \(resumed.lease) persisted by the previous run")
        }
        return Parts(ha: ha, service: HAService(ha: ha, hasWatchdog: watchdog != nil), client: client)
    }

    /// The lease the previous run persisted; nil when there is none (or it cannot be read, which
    /// only costs a new lease: the old one is then fenced by its deadline).
    static func readLease(_ path: String, logger: Logger) -> HAPersisted? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(HAPersisted.self, from: data)
        } catch {
            logger.warning("the persisted HA lease cannot be read; a new one is asked for", metadata: ["file": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    static func writeLease(_ persisted: HAPersisted?, to path: String, logger: Logger) {
        do {
            if let persisted {
                try AtomicFile.write(path: path, data: try JSONEncoder().encode(persisted))
            } else if FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        } catch {
            logger.error("cannot persist the HA lease", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}

/// A value behind a lock, set once the object it refers to exists.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// HA's libvirt port on the agent: `LibvirtHADomains` over one lasting session of HA's own,
/// opened again after a failure, for the spec owner the last pass loaded.
struct AgentHADomains: HADomainControl {
    let uri: String
    let options: LibvirtSessionOptions
    let definitions: HADefinitions

    private static let sessions = SessionCache()

    static func session(uri: String, options: LibvirtSessionOptions) async throws -> LibvirtSession {
        try await sessions.get(uri: uri, options: options)
    }

    private func control() async throws -> LibvirtHADomains {
        guard let owner = definitions.owner else {
            throw EngineError("HA waits for the first pass to load the spec (it cannot yet tell its domains from others')")
        }
        return LibvirtHADomains(session: try await Self.session(uri: uri, options: options), owner: owner)
    }

    private func run<T>(_ body: (LibvirtHADomains) async throws -> T) async throws -> T {
        let control = try await control()
        do {
            return try await body(control)
        } catch {
            // Reconnecting costs milliseconds; a closed connection reports itself in many ways.
            Self.sessions.drop(uri: uri)
            throw error
        }
    }

    func domains(_ names: Set<String>) async throws -> [String: HALocalDomain] { try await run { try await $0.domains(names) } }
    func start(vm: String, epoch: Int64) async throws { try await run { try await $0.start(vm: vm, epoch: epoch) } }
    func hardStop(vm: String) async throws { try await run { try await $0.hardStop(vm: vm) } }

    /// One session per URI, opened on first use.
    final class SessionCache: @unchecked Sendable {
        private let lock = NSLock()
        private var sessions: [String: LibvirtSession] = [:]

        func get(uri: String, options: LibvirtSessionOptions) async throws -> LibvirtSession {
            if let existing = lock.withLock({ sessions[uri] }) { return existing }
            let opened = try await LibvirtSession.connect(uri: uri, options: options)
            return lock.withLock {
                if let raced = sessions[uri] { return raced }
                sessions[uri] = opened
                return opened
            }
        }

        func drop(uri: String) { _ = lock.withLock { sessions.removeValue(forKey: uri) } }
    }
}
