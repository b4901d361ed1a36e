import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine

/// The agent's connector: one lasting session to its own host's libvirt (through the
/// configured URI, whatever URI the spec gives the host), reused pass after pass and handed to
/// `onSession` when opened (the agent follows its events); other hosts get a fresh session per
/// pass. Only the apply workflow holds it. Migrations away from the own host go through
/// `migrations` (HA hands an HA VM's owner record over with it).
package final class AgentConnector: HypervisorConnector, @unchecked Sendable {
    /// What carries out the migrations of the own host's session.
    package let migrations = MigrationGate()
    // `lock` guards `session`.
    private let lock = NSLock()
    private var session: (any HypervisorSession)?
    private let base: any HypervisorConnector
    private let host: String
    private let uri: String
    private let onSession: @Sendable (any HypervisorSession) -> Void
    private let resync: Duration
    private let onRead: ReadReport
    private let logger = Logger(label: "virtsync.agent")

    /// - Parameters:
    ///   - resync: how often the own host is read whole whatever its events said; between, a
    ///     pass reads only the domains events named (`CachedSession`). Zero: every pass reads
    ///     everything.
    ///   - onRead: told how each read of the own host went (full or not, domains read).
    package init(base: any HypervisorConnector, host: String, uri: String, resync: Duration = .zero,
                 onRead: @escaping ReadReport = { _, _ in },
                 onSession: @escaping @Sendable (any HypervisorSession) -> Void) {
        self.base = base
        self.host = host
        self.uri = uri
        self.resync = resync
        self.onRead = onRead
        self.onSession = onSession
    }

    package func connect(host: String, uri: String) async throws -> any HypervisorSession {
        guard host == self.host else { return try await base.connect(host: host, uri: uri) }
        if let existing = lock.withLock({ session }) { return existing }
        let opened = try await base.connect(host: host, uri: self.uri)
        let viewed: any HypervisorSession = resync > .zero
            ? CachedSession(base: opened, resync: resync, logger: logger, onRead: onRead) : opened
        let gated = GatedSession(base: viewed, gate: migrations)
        lock.withLock { session = gated }
        onSession(opened)
        return gated
    }

    /// Forgets the session; true when there was one. The next pass reconnects.
    package func drop() -> Bool {
        lock.withLock {
            defer { session = nil }
            return session != nil
        }
    }
}

/// Where a migration of the agent's own host is carried out: as it is, or through HA once the
/// agent's HA is wired (`set`).
package final class MigrationGate: Sendable {
    package typealias Handler = @Sendable (PlanStep, Migration, @escaping @Sendable () async throws -> MigrationReport) async throws -> MigrationReport
    private let handler = Locked<Handler?>(nil)

    package init() {}

    /// Routes every later migration through `handler`, which calls the migration it is given.
    package func set(_ handler: @escaping Handler) {
        self.handler.withLock { $0 = handler }
    }

    func migrate(_ step: PlanStep, _ migration: Migration, perform: @escaping @Sendable () async throws -> MigrationReport) async throws -> MigrationReport {
        guard let handler = handler.withLock({ $0 }) else { return try await perform() }
        return try await handler(step, migration, perform)
    }
}

/// The own host's session with its migrations routed through a `MigrationGate`.
struct GatedSession: HypervisorSession {
    let base: any HypervisorSession
    let gate: MigrationGate

    var uri: String { base.uri }
    var hostKey: String { base.hostKey }
    func observe(host: String) async throws -> ObservedHost { try await base.observe(host: host) }
    func apply(_ step: PlanStep) async throws { try await base.apply(step) }
    func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport {
        let base = base
        return try await gate.migrate(step, migration) { try await base.migrate(step, migration, destination: destination) }
    }
}
