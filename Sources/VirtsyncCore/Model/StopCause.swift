/// Why a domain that is not active is stopped, in the terms of a restart policy.
public enum StopCause: Hashable, Sendable {
    /// Not running because it was never started, virtsync stopped it on purpose, or libvirt
    /// stopped it for a reason that is no failure (saved, migrated away, reverted to a snapshot,
    /// the daemon), or the reason is unknown. Starting it is not a restart.
    case notStarted
    /// The guest shut itself down (or libvirt gave a reason it does not name).
    case cleanShutdown
    /// The guest crashed or failed to run, or someone destroyed it outside virtsync.
    case failure

    /// Why `domain` is stopped, or `nil` when it is active (running or paused).
    ///
    /// Pure: it reads only the observed values. A domain stopped by virtsync counts as not
    /// started whatever libvirt's reason; then the reason decides, and a domain in libvirt's
    /// crashed state is a failure. The agent uses this to tell which planned starts are restarts.
    public static func classify(_ domain: ObservedDomain) -> StopCause? {
        guard !domain.state.isActive else { return nil }
        if domain.stoppedByVirtsync { return .notStarted }
        switch domain.stopReason {
        case .crashed, .failed, .destroyed:
            return .failure
        case .shutdown, .other:
            return .cleanShutdown
        case .unknown, .saved, .migrated, .fromSnapshot, .daemon, nil:
            return domain.state == .crashed ? .failure : .notStarted
        }
    }
}
