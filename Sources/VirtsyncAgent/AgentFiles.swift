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
}
