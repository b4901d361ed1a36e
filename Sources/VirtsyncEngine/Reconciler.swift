import Foundation
import Logging
import VirtsyncCore

/// One reconcile pass, split so that `plan` only ever reads: observe every host, plan, and
/// (for `apply`) execute. The CLI and, later, the agent loop call these.
public struct Reconciler: Sendable {
    public let connector: any HypervisorConnector
    public let inventory: InventoryStore
    /// URI for hosts whose spec gives none (the implicit `local` host).
    public let defaultURI: String
    /// Deadline for reading one host.
    public var observeTimeout: Duration
    let logger = Logger(label: "virtsync.engine")

    public init(connector: any HypervisorConnector, inventory: InventoryStore, defaultURI: String = "qemu:///system",
                observeTimeout: Duration = .seconds(30)) {
        self.connector = connector
        self.inventory = inventory
        self.defaultURI = defaultURI
        self.observeTimeout = observeTimeout
    }

    /// The URI used for a host.
    public func uri(for host: DesiredHost) -> String { host.uri ?? defaultURI }

    /// Connects to every host in parallel. Hosts that fail are reported by name with the reason.
    public func connect(_ desired: DesiredState) async -> (sessions: [String: any HypervisorSession], failed: [String: String]) {
        await withTaskGroup(of: (String, Result<any HypervisorSession, any Error>).self) { group in
            for host in desired.hosts {
                let uri = uri(for: host)
                group.addTask {
                    do { return (host.name, .success(try await connector.connect(host: host.name, uri: uri))) }
                    catch { return (host.name, .failure(error)) }
                }
            }
            var sessions: [String: any HypervisorSession] = [:]
            var failed: [String: String] = [:]
            for await (name, result) in group {
                switch result {
                case .success(let s): sessions[name] = s
                case .failure(let e): failed[name] = "\(e)"
                }
            }
            return (sessions, failed)
        }
    }

    /// Reads every connected host in parallel, marking what the inventory says virtsync owns.
    public func observe(_ desired: DesiredState, sessions: [String: any HypervisorSession], failed: [String: String]) async -> ObservedState {
        let inv = await inventory.snapshot()
        var state = ObservedState(unreachable: failed)
        await withTaskGroup(of: (String, Result<ObservedHost, any Error>).self) { group in
            for host in desired.hosts {
                guard let session = sessions[host.name] else { continue }
                group.addTask {
                    do { return (host.name, .success(try await session.observe(host: host.name))) }
                    catch { return (host.name, .failure(error)) }
                }
            }
            for await (name, result) in group {
                switch result {
                case .success(var h):
                    if let s = sessions[name] { inv.annotate(&h, uri: s.uri) }
                    state.hosts[name] = h
                case .failure(let e):
                    state.unreachable[name] = "\(e)"
                }
            }
        }
        return state
    }

    /// Observes and plans. Never changes a host.
    public func plan(_ desired: DesiredState, sessions: [String: any HypervisorSession], failed: [String: String],
                     options: PlanOptions) async -> (Plan, ObservedState) {
        let observed = await observe(desired, sessions: sessions, failed: failed)
        return (Planner.plan(desired: desired, observed: observed, options: options), observed)
    }
}
