import Foundation
import Logging

/// Runs one reconcile pass; the agent's implementation fetches, verifies, loads, observes,
/// plans, applies and reports. Tests give a scripted runner.
public protocol PassRunner: Sendable {
    /// Runs pass `id`. When `stop` becomes set, the pass lets the steps in flight finish, starts
    /// no others, and returns (outcome `interrupted` if steps were left).
    func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord
}

/// The level-triggered loop: one pass at a time, when the schedule says so or a trigger arrives.
///
/// `trigger` and `stop` may be called from any thread (HTTP handlers, signal and event tasks);
/// `run` is called once and returns after `stop`, when the pass in flight (if any) has ended.
public final class AgentLoop: @unchecked Sendable {
    // `lock` guards everything below it that is `var`.
    private let lock = NSLock()
    private var schedule: AgentSchedule
    private var stopped = false
    private var lastStarted = 0
    private var running = false
    private var waiters: [(target: Int, continuation: CheckedContinuation<PassRecord?, Never>)] = []
    private var observers: [@Sendable (PassRecord, Double) -> Void] = []

    private let runner: any PassRunner
    private let clock: any AgentClock
    private let stopFlag = StopFlag()
    private let wakeup = Wakeup()
    private let logger = Logger(label: "virtsync.agent")

    /// A loop whose first pass is due at once.
    /// - Parameter lastPassID: the id of the last pass of an earlier process (from the status
    ///   history), so that pass ids keep growing across restarts and name one pass each.
    public init(runner: any PassRunner, clock: any AgentClock, timing: AgentTiming,
                random: any RandomSource = SystemRandomSource(), lastPassID: Int = 0) {
        self.lastStarted = max(0, lastPassID)
        self.runner = runner
        self.clock = clock
        self.schedule = AgentSchedule(timing: timing, now: clock.now(), random: random)
    }

    /// Asks for a pass. Returns the id of the pass that will take this trigger into account.
    @discardableResult
    public func trigger(_ trigger: PassTrigger, detail: String? = nil) -> Int {
        lock.lock()
        schedule.note(trigger, detail: detail, at: clock.now())
        let target = lastStarted + 1
        lock.unlock()
        wakeup.signal()
        return target
    }

    /// Waits until pass `target` (or a later one) has finished; nil when the loop stops first.
    public func waitForPass(_ target: Int) async -> PassRecord? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if stopped {
                lock.unlock()
                continuation.resume(returning: nil)
                return
            }
            waiters.append((target, continuation))
            lock.unlock()
        }
    }

    /// Calls `observer` after each pass with its record and the seconds until the next pass is
    /// due (0 when one is due at once), on the loop's task: it must return quickly.
    public func onPassFinished(_ observer: @escaping @Sendable (PassRecord, Double) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    /// Asks the loop to stop: the pass in flight finishes its running steps, and `run` returns.
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        stopFlag.set()
        wakeup.signal()
    }

    /// Whether a pass is running now.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    /// When the next pass is due, in the clock's monotonic seconds (-infinity: at once).
    public var nextDue: Double {
        lock.lock()
        defer { lock.unlock() }
        return schedule.next().at
    }

    /// Consecutive transient failures so far.
    public var consecutiveFailures: Int {
        lock.lock()
        defer { lock.unlock() }
        return schedule.failures
    }

    /// What the loop does next.
    private enum Step {
        case stop
        case sleep(until: Double)
        case pass(id: Int, trigger: PassTrigger, detail: String?)
    }

    private func decide() -> Step {
        lock.withLock {
            if stopped { return .stop }
            let next = schedule.next()
            let now = clock.now()
            guard next.at <= now else { return .sleep(until: next.at) }
            schedule.passStarted()
            lastStarted += 1
            running = true
            return .pass(id: lastStarted, trigger: next.trigger, detail: next.detail)
        }
    }

    private func finished(_ record: PassRecord, id: Int) -> [CheckedContinuation<PassRecord?, Never>] {
        lock.withLock {
            running = false
            schedule.passFinished(record.failureClass, at: clock.now())
            let ready = waiters.filter { $0.target <= id }.map(\.continuation)
            waiters.removeAll { $0.target <= id }
            return ready
        }
    }

    /// Runs passes until `stop`.
    public func run() async {
        loop: while true {
            switch decide() {
            case .stop:
                break loop
            case .sleep(let deadline):
                let clock = self.clock
                let wakeup = self.wakeup
                let sleeper = Task {
                    do {
                        try await clock.sleep(until: deadline)
                        wakeup.signal()
                    } catch {}
                }
                await wakeup.wait()
                sleeper.cancel()
            case .pass(let id, let trigger, let detail):
                let record = await runner.run(id: id, trigger: trigger, detail: detail, stop: stopFlag)
                let ready = finished(record, id: id)
                let (observers, next) = lock.withLock { (self.observers, max(0, schedule.next().at - clock.now())) }
                for observer in observers { observer(record, next) }
                for continuation in ready { continuation.resume(returning: record) }
            }
        }
        let left: [CheckedContinuation<PassRecord?, Never>] = lock.withLock {
            defer { waiters.removeAll() }
            return waiters.map(\.continuation)
        }
        for continuation in left { continuation.resume(returning: nil) }
        logger.debug("loop stopped")
    }
}

/// Wakes the loop: a signal before the wait is kept, so none is lost.
final class Wakeup: @unchecked Sendable {
    // `lock` guards `pending` and `continuation`.
    private let lock = NSLock()
    private var pending = false
    private var continuation: CheckedContinuation<Void, Never>?

    func signal() {
        lock.lock()
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume()
        } else {
            pending = true
            lock.unlock()
        }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if pending {
                pending = false
                lock.unlock()
                continuation.resume()
            } else {
                self.continuation = continuation
                lock.unlock()
            }
        }
    }
}
