import Foundation
import VirtsyncEngine

/// The agent's connector: one lasting session to its own host's libvirt (through the
/// configured URI, whatever URI the spec gives the host), reused pass after pass and handed to
/// `onSession` when opened (the agent follows its events); other hosts get a fresh session per
/// pass. Only the apply workflow holds it.
package final class AgentConnector: HypervisorConnector, @unchecked Sendable {
    // `lock` guards `session`.
    private let lock = NSLock()
    private var session: (any HypervisorSession)?
    private let base: any HypervisorConnector
    private let host: String
    private let uri: String
    private let onSession: @Sendable (any HypervisorSession) -> Void

    package init(base: any HypervisorConnector, host: String, uri: String, onSession: @escaping @Sendable (any HypervisorSession) -> Void) {
        self.base = base
        self.host = host
        self.uri = uri
        self.onSession = onSession
    }

    package func connect(host: String, uri: String) async throws -> any HypervisorSession {
        guard host == self.host else { return try await base.connect(host: host, uri: uri) }
        if let existing = lock.withLock({ session }) { return existing }
        let opened = try await base.connect(host: host, uri: self.uri)
        lock.withLock { session = opened }
        onSession(opened)
        return opened
    }

    /// Forgets the session; true when there was one. The next pass reconnects.
    package func drop() -> Bool {
        lock.withLock {
            defer { session = nil }
            return session != nil
        }
    }
}
