import Foundation
import VirtsyncCore

/// The reading half of a pass: connect to every host read-only, observe, plan. It holds a
/// `HypervisorReadConnector`, so whatever only plans (`plan`, review plans, benchmarks) cannot
/// change a host by construction; `ApplyWorkflow` is the one way to apply.
public struct Reconciler: Sendable {
    public let reader: any HypervisorReadConnector
    public let inventory: InventoryStore
    /// URI for hosts whose spec gives none (the implicit `local` host).
    public let defaultURI: String
    /// Deadlines of connecting and reading belong to the hypervisor sessions (see
    /// `LibvirtSessionOptions`), which know what a call costs.
    public init(reader: any HypervisorReadConnector, inventory: InventoryStore, defaultURI: String = "qemu:///system") {
        self.reader = reader
        self.inventory = inventory
        self.defaultURI = defaultURI
    }

    /// The URI used for a host.
    public func uri(for host: DesiredHost) -> String { host.uri ?? defaultURI }

    /// Connects to every host in parallel, read-only. Hosts that fail are reported by name with the reason.
    public func connect(_ desired: DesiredState) async -> (sessions: [String: any HypervisorReadSession], failed: [String: String]) {
        let reader = reader
        return await Self.connectAll(desired, defaultURI: defaultURI) { host, uri in try await reader.connectReader(host: host, uri: uri) }
    }

    /// Opens a session to every host of `desired` in parallel with `open(host, uri)`; failures
    /// by host name. Shared by the reading half and the apply workflow.
    static func connectAll<Session: Sendable>(_ desired: DesiredState, defaultURI: String,
                                              _ open: @escaping @Sendable (String, String) async throws -> Session) async
        -> (sessions: [String: Session], failed: [String: String]) {
        // Unstructured tasks, not a task group: Swift 6.3.1 release builds lose child results of
        // task groups returning large values (seen here as hosts reported "not observed").
        let tasks = desired.hosts.map { host in
            let uri = host.uri ?? defaultURI
            return (host.name, Task { try await open(host.name, uri) })
        }
        var sessions: [String: Session] = [:]
        var failed: [String: String] = [:]
        for (name, task) in tasks {
            do { sessions[name] = try await task.value } catch { failed[name] = "\(error)" }
        }
        return (sessions, failed)
    }

    /// Reads every connected host in parallel, marking what the inventory says virtsync owns.
    public func observe(_ desired: DesiredState, sessions: [String: any HypervisorReadSession], failed: [String: String]) async -> ObservedState {
        var state = ObservedState(unreachable: failed)
        let tasks = desired.hosts.compactMap { host -> (String, any HypervisorReadSession, Task<ObservedHost, any Error>)? in
            guard let session = sessions[host.name] else { return nil }
            return (host.name, session, Task { try await session.observe(host: host.name) })
        }
        for (name, session, task) in tasks {
            do {
                var h = try await task.value
                try await inventory.annotate(&h, host: session.hostKey, uri: session.uri)
                state.hosts[name] = h
            } catch {
                state.unreachable[name] = "\(error)"
            }
        }
        return state
    }

    /// Observes and plans. Never changes a host.
    public func plan(_ desired: DesiredState, sessions: [String: any HypervisorReadSession], failed: [String: String],
                     options: PlanOptions) async -> (Plan, ObservedState) {
        let observed = await observe(desired, sessions: sessions, failed: failed)
        return (await plan(desired, observed: observed, options: options), observed)
    }

    /// Plans against an observed state.
    public func plan(_ desired: DesiredState, observed: ObservedState, options: PlanOptions) async -> Plan {
        // The fingerprint (canonical JSON + SHA-256 of everything observed) costs about as much
        // as the diff itself: compute the two side by side.
        let fingerprint = Task.detached { Fingerprint.of(observed) }
        var plan = Planner.plan(desired: desired, observed: observed, options: options, fingerprint: "")
        plan.basis.connections = Dictionary(desired.hosts.map { ($0.name, uri(for: $0)) }, uniquingKeysWith: { first, _ in first })
        plan.basis.observedFingerprint = await fingerprint.value
        return plan
    }

    /// A host being read before the spec is loaded. When the URI is known up front (`--connect`),
    /// reading libvirt, which mostly waits on the daemon, overlaps with loading the spec, which
    /// mostly computes.
    public struct Prefetch: Sendable {
        public let uri: String
        let task: Task<(any HypervisorReadSession, ObservedHost), any Error>

        /// Gives up on the read (the spec turned out invalid).
        public func cancel() { task.cancel() }
    }

    /// Starts connecting to and reading `uri` now.
    public func prefetch(uri: String) -> Prefetch {
        let reader = reader
        return Prefetch(uri: uri, task: Task {
            let session = try await reader.connectReader(host: "local", uri: uri)
            return (session, try await session.observe(host: "local"))
        })
    }

    /// Connects to and reads every host of `desired`, using `prefetch` when it read the spec's
    /// only host (a single-host spec whose URI is the prefetched one).
    public func read(_ desired: DesiredState, prefetch: Prefetch? = nil) async
        -> (sessions: [String: any HypervisorReadSession], failed: [String: String], observed: ObservedState) {
        if let prefetch, desired.hosts.count == 1, let host = desired.hosts.first, uri(for: host) == prefetch.uri {
            do {
                let (session, read) = try await prefetch.task.value
                var observedHost = read
                observedHost.name = host.name
                try await inventory.annotate(&observedHost, host: session.hostKey, uri: session.uri)
                return ([host.name: session], [:], ObservedState(hosts: [host.name: observedHost]))
            } catch {
                return ([:], [host.name: "\(error)"], ObservedState(unreachable: [host.name: "\(error)"]))
            }
        }
        let (sessions, failed) = await connect(desired)
        return (sessions, failed, await observe(desired, sessions: sessions, failed: failed))
    }
}
