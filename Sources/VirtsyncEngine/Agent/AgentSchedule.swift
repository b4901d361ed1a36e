import Foundation

/// How often and how soon passes run: the agent configuration's timing, in seconds.
public struct AgentTiming: Sendable, Equatable {
    /// Time between passes when nothing triggers one.
    public var interval: Double
    /// Each wait is stretched or shrunk by up to this fraction, so agents started together do
    /// not poll the git server in step.
    public var jitter: Double
    /// Quiet time after the last libvirt event before the pass runs: a burst gives one pass.
    public var debounce: Double
    /// First retry delay after a transient failure; doubles per consecutive failure up to `backoffMax`.
    public var backoffInitial: Double
    public var backoffMax: Double

    public init(interval: Double = 60, jitter: Double = 0.1, debounce: Double = 2, backoffInitial: Double = 5, backoffMax: Double = 300) {
        self.interval = interval
        self.jitter = min(max(jitter, 0), 0.5)
        self.debounce = max(0, debounce)
        self.backoffInitial = max(0.1, backoffInitial)
        self.backoffMax = max(self.backoffInitial, backoffMax)
    }
}

/// When the next pass runs: a pure state machine over triggers and pass outcomes, in the
/// clock's monotonic seconds. The loop asks `next()` and sleeps until then or until a trigger.
///
/// - Manual, signal and webhook triggers are due at once.
/// - Events are debounced: due `debounce` after the latest one, but no later than
///   `4 × debounce` after the first of the burst, so a steady stream still gets passes.
/// - After a pass the interval restarts, with jitter.
/// - A transient failure schedules a retry after `backoffInitial × 2^(n-1)` (capped, with
///   jitter); success resets it. Waiting and stalled outcomes schedule no retry: only the
///   interval and triggers bring the next pass, so a refused commit is not hammered.
public struct AgentSchedule: Sendable {
    public let timing: AgentTiming
    /// Consecutive transient failures.
    public private(set) var failures = 0
    private var nextPoll: Double
    private var retryAt: Double?
    private var immediate: (PassTrigger, String?)?
    private var firstEvent: Double?
    private var lastEvent: Double?
    private var eventDetail: String?
    private var random: any RandomSource

    /// A schedule whose first pass (`startup`) is due at `now`.
    public init(timing: AgentTiming, now: Double, random: any RandomSource = SystemRandomSource()) {
        self.timing = timing
        self.nextPoll = now
        self.random = random
        self.immediate = (.startup, nil)
    }

    /// Records a trigger at `now`.
    public mutating func note(_ trigger: PassTrigger, detail: String? = nil, at now: Double) {
        switch trigger {
        case .event:
            if firstEvent == nil { firstEvent = now; eventDetail = detail }
            lastEvent = now
        case .interval, .retry:
            break   // the schedule's own
        case .startup, .manual, .signal, .webhook:
            // The most explicit wins: a manual request over a webhook over a signal.
            if let current = immediate, rank(current.0) >= rank(trigger) { return }
            immediate = (trigger, detail)
        }
    }

    private func rank(_ trigger: PassTrigger) -> Int {
        switch trigger {
        case .startup: return 4
        case .manual: return 3
        case .webhook: return 2
        case .signal: return 1
        default: return 0
        }
    }

    /// The next pass: when it is due and what triggers it.
    public func next() -> (at: Double, trigger: PassTrigger, detail: String?) {
        var best: (at: Double, trigger: PassTrigger, detail: String?) = (nextPoll, .interval, nil)
        func consider(_ at: Double, _ trigger: PassTrigger, _ detail: String?) {
            if at < best.at { best = (at, trigger, detail) }
        }
        if let retryAt { consider(retryAt, .retry, "after \(failures) failure\(failures == 1 ? "" : "s")") }
        if let first = firstEvent, let last = lastEvent {
            consider(min(last + timing.debounce, first + 4 * timing.debounce), .event, eventDetail)
        }
        if let (trigger, detail) = immediate { best = (-.infinity, trigger, detail) }
        return best
    }

    /// A pass starts now: every trigger noted so far is taken by it.
    public mutating func passStarted() {
        immediate = nil
        firstEvent = nil
        lastEvent = nil
        eventDetail = nil
        retryAt = nil
    }

    /// A pass ended with `failure` (nil for success) at `now`: schedules the next poll and any retry.
    public mutating func passFinished(_ failure: FailureClass?, at now: Double) {
        nextPoll = now + jittered(timing.interval)
        switch failure {
        case .transient:
            failures += 1
            let delay = min(timing.backoffMax, timing.backoffInitial * pow(2, Double(min(failures - 1, 30))))
            retryAt = now + jittered(delay)
        case .waiting, .stalled, nil:
            failures = 0
        }
    }

    private mutating func jittered(_ seconds: Double) -> Double {
        guard timing.jitter > 0 else { return seconds }
        let factor = 1 + timing.jitter * (2 * random.next() - 1)
        return seconds * factor
    }
}

/// Uniform numbers in 0..<1 for jitter; injected so tests are deterministic.
public protocol RandomSource: Sendable {
    /// The next number in 0..<1.
    mutating func next() -> Double
}

/// The system's random numbers.
public struct SystemRandomSource: RandomSource {
    /// A source over `SystemRandomNumberGenerator`.
    public init() {}
    public mutating func next() -> Double { Double.random(in: 0..<1) }
}
