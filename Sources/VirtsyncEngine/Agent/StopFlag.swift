import Foundation

/// A one-way flag: set when the agent is asked to stop. The executor checks it before starting
/// each step, so the steps in flight finish and no new one starts.
public final class StopFlag: @unchecked Sendable {
    // `lock` guards `value`.
    private let lock = NSLock()
    private var value = false

    /// A flag that is not set.
    public init() {}

    /// Whether a stop was requested.
    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// Requests the stop.
    public func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
