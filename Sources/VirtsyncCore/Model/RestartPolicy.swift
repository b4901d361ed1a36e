/// What virtsync (the agent) does when a VM whose spec says `power: running` is found stopped
/// without virtsync having stopped it.
///
/// Not a libvirt property: like `power`, it is never written to the domain's XML, never read
/// back (an observed domain carries the default) and never compared in a diff. The planner uses
/// `mode`; `maxRestarts` and `window` are for the agent, which counts restarts over time.
public struct RestartPolicy: Hashable, Codable, Sendable {
    /// Which stops are followed by a start.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Start the VM again however it stopped (a crash, or a shutdown from inside the guest).
        case always
        /// Start it again only when it failed (crashed, or was destroyed outside virtsync).
        case onFailure = "on-failure"
        /// Never start it again; the plan only reports it.
        case never
    }

    /// Default number of restarts allowed within `defaultWindow`.
    public static let defaultMaxRestarts = 5
    /// Default window over which restarts are counted: ten minutes, in seconds.
    public static let defaultWindow: Double = 600

    /// Which stops are followed by a start.
    public var mode: Mode
    /// Most restarts within `window`; a VM at its limit stays stopped until its spec changes or
    /// someone starts it.
    public var maxRestarts: Int
    /// The window, in seconds, over which restarts are counted.
    public var window: Double

    /// A policy; the defaults are `always`, 5 restarts, 10 minutes.
    public init(mode: Mode = .always, maxRestarts: Int = RestartPolicy.defaultMaxRestarts,
                window: Double = RestartPolicy.defaultWindow) {
        self.mode = mode
        self.maxRestarts = maxRestarts
        self.window = window
    }

    /// `true` when a VM that should run and stopped for `cause` is to be started under this
    /// policy. A VM that was `notStarted` is always started: that is not a restart.
    public func allowsStart(after cause: StopCause) -> Bool {
        switch (cause, mode) {
        case (.notStarted, _): return true
        case (.failure, .always), (.failure, .onFailure): return true
        case (.cleanShutdown, .always): return true
        case (.failure, .never), (.cleanShutdown, .onFailure), (.cleanShutdown, .never): return false
        }
    }
}
