import Foundation
import VirtsyncEngine

/// Where the agent keeps its files inside the state directory. Every file is written atomically
/// (`AtomicFile`), so a crash at any moment leaves each one readable.
public struct AgentFiles: Sendable {
    /// The state directory (`/var/lib/virtsync` by default).
    public let stateDirectory: String

    /// Files inside `stateDirectory`.
    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    /// The status `virtsync status` and `/status` show: conditions and the last passes.
    public var status: String { stateDirectory + "/agent-status.json" }
    /// Restarts the agent made per VM, so a crash-looping VM stays limited across agent restarts.
    public var restarts: String { stateDirectory + "/restarts.json" }
    /// Present while the agent is suspended (`virtsync suspend`); removed by `virtsync resume`.
    public var suspension: String { stateDirectory + "/suspended.json" }

    /// The status file as `virtsync status` shows it: with the suspension file's word over the
    /// status file's (the CLI may have suspended or resumed an agent that was not running).
    /// - Throws: `EngineError` when the status file is missing or damaged.
    public func readStatus() throws -> AgentStatus {
        var status = try AgentStatus.read(path: self.status)
        do {
            status.suspended = try AgentSuspension.read(path: suspension)
        } catch {
            status.suspended = AgentSuspension(reason: "\(error)", since: Date(timeIntervalSince1970: 0))
        }
        return status
    }
}
