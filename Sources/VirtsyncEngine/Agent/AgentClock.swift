import Foundation

/// The time the agent loop runs on. Production uses the system clocks; tests inject a manual
/// clock and move time by hand, so schedules (interval, jitter, debounce, backoff) are tested
/// without waiting.
public protocol AgentClock: Sendable {
    /// Monotonic seconds since an arbitrary origin: schedules are computed in this time, which
    /// never jumps when the wall clock is set.
    func now() -> Double
    /// Wall-clock time, for records people read (pass start times, restart windows across
    /// agent restarts).
    func wallNow() -> Date
    /// Returns at `deadline` (monotonic), or earlier when the calling task is cancelled (then it
    /// throws `CancellationError`).
    func sleep(until deadline: Double) async throws
}

/// The system's clocks: `ContinuousClock` for schedules, `Date()` for records.
public struct SystemAgentClock: AgentClock {
    private let origin = ContinuousClock.now

    /// A clock whose monotonic origin is its creation.
    public init() {}

    public func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    public func wallNow() -> Date { Date() }

    public func sleep(until deadline: Double) async throws {
        let seconds = deadline - now()
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}
