import Foundation
import VirtsyncEngine

/// A clock that moves only when a test says so. Sleepers wake when `advance` passes their
/// deadline, or throw `CancellationError` when their task is cancelled.
public final class ManualClock: AgentClock, @unchecked Sendable {
    // `lock` guards every `var`.
    private let lock = NSLock()
    private var current: Double = 0
    private let origin: Date
    private var sleepers: [Int: (deadline: Double, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var cancelled: Set<Int> = []
    private var nextID = 0

    /// A clock at monotonic 0, whose wall time starts at `origin`.
    public init(origin: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.origin = origin
    }

    public func now() -> Double { lock.withLock { current } }

    public func wallNow() -> Date { lock.withLock { origin.addingTimeInterval(current) } }

    /// Tasks sleeping now.
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    public func sleep(until deadline: Double) async throws {
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = lock.withLock {
                    if cancelled.remove(id) != nil { return .some(CancellationError()) }
                    if deadline <= current { return .some(nil) }
                    sleepers[id] = (deadline, continuation)
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let sleeper = lock.withLock { () -> CheckedContinuation<Void, any Error>? in
                if let s = sleepers.removeValue(forKey: id) { return s.continuation }
                cancelled.insert(id)
                return nil
            }
            sleeper?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by seconds: Double) {
        let due: [CheckedContinuation<Void, any Error>] = lock.withLock {
            current += seconds
            let ready = sleepers.filter { $0.value.deadline <= current }
            for id in ready.keys { sleepers.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}

/// Jitter that is always the same number (0.5 gives no jitter at all).
public struct FixedRandomSource: RandomSource {
    public var value: Double
    /// A source returning `value` (in 0..<1) every time.
    public init(_ value: Double = 0.5) { self.value = value }
    public mutating func next() -> Double { value }
}
