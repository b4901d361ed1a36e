import Foundation
import Testing
import VirtsyncEngine
import VirtsyncTesting

/// A pass runner that records its calls and answers from a script; `hold` keeps a pass running
/// until `release`.
final class ScriptedRunner: PassRunner, @unchecked Sendable {
    struct Call: Equatable {
        var id: Int
        var trigger: PassTrigger
        var at: Double
    }

    private let lock = NSLock()
    private let clock: ManualClock
    private var outcomes: [PassOutcome]
    private var _calls: [Call] = []
    private var holding = false
    private var held: CheckedContinuation<Void, Never>?
    private var sawStop = false

    init(clock: ManualClock, outcomes: [PassOutcome] = []) {
        self.clock = clock
        self.outcomes = outcomes
    }

    var calls: [Call] { lock.withLock { _calls } }
    var stopSeen: Bool { lock.withLock { sawStop } }

    /// The next pass blocks until `release`.
    func hold() { lock.withLock { holding = true } }

    func release() {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            holding = false
            defer { held = nil }
            return held
        }
        continuation?.resume()
    }

    func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord {
        let outcome: PassOutcome = lock.withLock {
            _calls.append(Call(id: id, trigger: trigger, at: clock.now()))
            return outcomes.isEmpty ? .converged : outcomes.removeFirst()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = lock.withLock {
                if holding { held = continuation; return true }
                return false
            }
            if !wait { continuation.resume() }
        }
        lock.withLock { if stop.isSet { sawStop = true } }
        return PassRecord(id: id, trigger: trigger, startedAt: clock.wallNow(), outcome: outcome, reason: "Scripted")
    }
}

/// Polls until `condition` holds (real time, at most 3 s): the loop runs on its own task.
func eventually(_ what: String, _ condition: () -> Bool) async {
    for _ in 0..<300 {
        if condition() { return }
        try? await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting: \(what)")
}

/// Lets the loop reach its next sleep after a pass or a trigger.
func settle(_ clock: ManualClock, sleepers: Int = 1) async {
    await eventually("the loop sleeps") { clock.sleeperCount >= sleepers }
}

struct LoopFixture {
    let clock = ManualClock()
    let runner: ScriptedRunner
    let loop: AgentLoop
    let task: Task<Void, Never>

    init(timing: AgentTiming = AgentTiming(interval: 60, jitter: 0.1, debounce: 2, backoffInitial: 5, backoffMax: 40),
         outcomes: [PassOutcome] = [], random: Double = 0.5, lastPassID: Int = 0) {
        runner = ScriptedRunner(clock: clock, outcomes: outcomes)
        loop = AgentLoop(runner: runner, clock: clock, timing: timing, random: FixedRandomSource(random), lastPassID: lastPassID)
        let loop = self.loop
        task = Task { await loop.run() }
    }

    func passes(_ count: Int) async {
        await eventually("\(count) passes") { runner.calls.count >= count }
    }

    func finish() async {
        loop.stop()
        await task.value
    }
}

@Suite("agent loop (manual clock)")
struct AgentLoopTests {
    @Test("the first pass runs at once, then one per interval")
    func startupThenInterval() async {
        let f = LoopFixture()
        await f.passes(1)
        #expect(f.runner.calls.first?.trigger == .startup)
        await settle(f.clock)
        f.clock.advance(by: 59)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(f.runner.calls.count == 1, "no pass before the interval")
        f.clock.advance(by: 1)
        await f.passes(2)
        #expect(f.runner.calls[1].trigger == .interval)
        #expect(f.runner.calls[1].at == 60)
        await f.finish()
    }

    @Test("after a restart, pass ids go on from the last one in the history")
    func idsContinue() async {
        let f = LoopFixture(lastPassID: 41)
        await f.passes(1)
        #expect(f.runner.calls.first?.id == 42)
        #expect(f.loop.trigger(.manual) == 43)
        await f.passes(2)
        #expect(f.runner.calls[1].id == 43)
        await f.finish()
    }

    @Test("jitter stretches or shrinks the interval by at most its fraction")
    func jitterBounds() async {
        for (random, expected) in [(0.0, 54.0), (0.999_999, 66.0)] {
            let f = LoopFixture(random: random)
            await f.passes(1)
            await settle(f.clock)
            #expect(abs(f.loop.nextDue - expected) < 0.01)
            await f.finish()
        }
    }

    @Test("a burst of events gives one pass, after the debounce")
    func debounce() async {
        let f = LoopFixture()
        await f.passes(1)
        await settle(f.clock)
        for _ in 0..<5 {
            f.loop.trigger(.event, detail: "domain web-1 stopped")
            f.clock.advance(by: 0.5)
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(f.runner.calls.count == 1, "still within the debounce")
        f.clock.advance(by: 1.6)
        await f.passes(2)
        #expect(f.runner.calls[1].trigger == .event)
        f.clock.advance(by: 10)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(f.runner.calls.count == 2, "one pass for the whole burst")
        await f.finish()
    }

    @Test("a steady stream of events still gets a pass within four debounce periods")
    func steadyEvents() async {
        let f = LoopFixture()
        await f.passes(1)
        await settle(f.clock)
        for _ in 0..<9 {
            f.loop.trigger(.event)
            f.clock.advance(by: 1)
            try? await Task.sleep(for: .milliseconds(5))
        }
        await f.passes(2)
        #expect(f.runner.calls[1].at == 8)
        await f.finish()
    }

    @Test("transient failures are retried with exponential backoff up to the cap; success resets it")
    func backoff() async {
        let f = LoopFixture(outcomes: [.failed, .failed, .failed, .failed, .failed, .converged, .failed])
        var expectedAt = 0.0
        for (n, delay) in [5.0, 10, 20, 40, 40].enumerated() {
            await f.passes(n + 1)
            await settle(f.clock)
            #expect(f.loop.nextDue == expectedAt + delay, "retry \(n + 1)")
            expectedAt += delay
            f.clock.advance(by: delay)
        }
        await f.passes(6)
        #expect(f.runner.calls[5].trigger == .retry)
        await settle(f.clock)
        #expect(f.loop.consecutiveFailures == 0)
        #expect(f.loop.nextDue == expectedAt + 60, "after success: the interval again")
        await f.finish()
    }

    @Test("a stalled pass is not retried: only the interval or a trigger brings the next one")
    func stalledIsNotRetried() async {
        let f = LoopFixture(outcomes: [.stalled, .stalled])
        await f.passes(1)
        await settle(f.clock)
        #expect(f.loop.nextDue == 60)
        f.clock.advance(by: 30)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(f.runner.calls.count == 1)
        f.loop.trigger(.manual)
        await f.passes(2)
        #expect(f.runner.calls[1].trigger == .manual)
        #expect(f.runner.calls[1].at == 30)
        await f.finish()
    }

    @Test("a trigger during a pass gives one more pass right after it")
    func triggerDuringPass() async {
        let f = LoopFixture()
        f.runner.hold()
        await f.passes(1)
        f.loop.trigger(.webhook)
        f.loop.trigger(.signal)
        f.runner.release()
        await f.passes(2)
        #expect(f.runner.calls[1].trigger == .webhook, "the more explicit trigger names the pass")
        await settle(f.clock)
        #expect(f.runner.calls.count == 2)
        await f.finish()
    }

    @Test("waiting for a triggered pass returns that pass's record")
    func waitForPass() async {
        let f = LoopFixture()
        await f.passes(1)
        await settle(f.clock)
        let target = f.loop.trigger(.manual)
        let record = await f.loop.waitForPass(target)
        #expect(record?.id == target)
        #expect(record?.trigger == .manual)
        await f.finish()
    }

    @Test("stop during a pass lets it finish, tells it to start no more steps, and runs no other pass")
    func gracefulStop() async {
        let f = LoopFixture()
        f.runner.hold()
        await f.passes(1)
        f.loop.stop()
        f.loop.trigger(.manual)
        try? await Task.sleep(for: .milliseconds(50))
        f.runner.release()
        await f.task.value
        #expect(f.runner.stopSeen)
        #expect(f.runner.calls.count == 1)
        #expect(await f.loop.waitForPass(5) == nil, "a stopped loop answers waits at once")
    }
}
