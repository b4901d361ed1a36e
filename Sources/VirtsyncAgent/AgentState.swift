import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The agent's published state: status (file and `/status`), metrics, the names of managed
/// resources (to filter libvirt events) and liveness. Shared by the pass, the HTTP endpoint,
/// the event task and the watchdog; every access holds the lock.
public final class AgentState: @unchecked Sendable {
    // `lock` guards every `var`.
    private let lock = NSLock()
    private var status: AgentStatus
    private var managedNames: Set<String> = []
    private var lastProgress: Double
    private var passRunning = false
    public let metrics = AgentMetrics()
    /// The last read, steps and refusal, for the cluster view.
    package let activity = HostActivity()
    let files: AgentFiles
    private let clock: any AgentClock

    package init(status: AgentStatus, files: AgentFiles, clock: any AgentClock) {
        self.status = status
        self.files = files
        self.clock = clock
        self.lastProgress = clock.now()
    }

    /// A copy of the status.
    public var snapshot: AgentStatus { lock.withLock { status } }

    /// Changes the status (in memory; `persist` writes it).
    func update(_ change: (inout AgentStatus) -> Void) {
        lock.withLock { change(&status) }
    }

    /// Writes the status file atomically.
    package func persist() throws {
        try snapshot.write(path: files.status)
    }

    /// Reads the suspension file again (the CLI writes it itself when the agent's endpoint is
    /// off) and publishes it in the status and the `virtsync_suspended` gauge. A damaged file
    /// counts as suspended: it must not resume anything by accident.
    @discardableResult
    package func refreshSuspension() -> AgentSuspension? {
        let suspension: AgentSuspension?
        do {
            suspension = try AgentSuspension.read(path: files.suspension)
        } catch {
            suspension = AgentSuspension(reason: "\(error)", since: clock.wallNow())
        }
        update { $0.suspended = suspension }
        metrics.set(AgentMetrics.suspended, suspension == nil ? 0 : 1)
        return suspension
    }

    /// Suspends the agent: writes the suspension file (atomically) and publishes it. Already
    /// suspended, the first suspension stays and is returned (with a new reason when given).
    package func suspend(reason: String?, by: String?) throws -> AgentSuspension {
        var suspension = refreshSuspension() ?? AgentSuspension(reason: nil, since: clock.wallNow(), by: by)
        if let reason { suspension.reason = reason }
        try suspension.write(path: files.suspension)
        refreshSuspension()
        try? persist()
        return suspension
    }

    /// Resumes the agent: removes the suspension file; returns the suspension it ended, nil
    /// when the agent was not suspended.
    package func resume() throws -> AgentSuspension? {
        let ended = refreshSuspension()
        try AgentSuspension.remove(path: files.suspension)
        refreshSuspension()
        try? persist()
        return ended
    }

    /// Whether libvirt events about `kind/name` concern virtsync (`domain/web-1`).
    func isManaged(_ key: String) -> Bool { lock.withLock { managedNames.contains(key) } }

    func setManaged(_ names: Set<String>) { lock.withLock { managedNames = names } }

    /// The loop made progress (a pass started or ended, a step finished).
    func progress(running: Bool? = nil) {
        lock.withLock {
            lastProgress = clock.now()
            if let running { passRunning = running }
        }
    }

    /// Healthy unless a pass has made no progress for `limit` seconds (a hung call the deadlines
    /// did not catch). The watchdog stops pinging systemd then, and `/healthz` answers 503.
    func isHealthy(stallLimit: Double) -> Bool {
        lock.withLock { !passRunning || clock.now() - lastProgress < stallLimit }
    }
}
