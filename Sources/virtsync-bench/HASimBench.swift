import Foundation
import VirtsyncCore
import VirtsyncTesting

/// `virtsync-bench --ha-sim`: the HA simulation (decision record 0009) over many seeds, on every
/// core. Prints seeds per second, the faults injected, the recovery-time distribution of crashes
/// and every violation with the seed that reproduces it; with `--variants`, how many seeds each
/// broken variant (one safety measure off) needs before the simulation finds a double run.
enum HASimBench {
    struct Tally {
        var seeds = 0
        var events = 0
        var recoveries: [Duration] = []
        var faults: [String: Int] = [:]
        var violations: [(seed: UInt64, report: String)] = []
    }

    /// The seeds not taken yet and what the finished ones gave; `lock` guards every `var`.
    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var next: UInt64
        var tally = Tally()
        var stop = false
        init(next: UInt64) { self.next = next }
    }

    /// Runs `seeds` on `jobs` threads; `stopAtFirstDoubleRun` ends early once a double run is found.
    static func sweep(_ seeds: Range<UInt64>, config: HASimulation.Config, jobs: Int, stopAtFirstDoubleRun: Bool = false) -> Tally {
        let shared = Shared(next: seeds.lowerBound)
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while true {
                let seed: UInt64? = shared.lock.withLock {
                    guard !shared.stop, shared.next < seeds.upperBound else { return nil }
                    defer { shared.next += 1 }
                    return shared.next
                }
                guard let seed else { return }
                let result = HASimulation(seed: seed, config: config).run()
                shared.lock.withLock {
                    shared.tally.seeds += 1
                    shared.tally.events += result.events
                    shared.tally.recoveries += result.recoveries
                    shared.tally.faults.merge(result.faults, uniquingKeysWith: +)
                    if !result.violations.isEmpty {
                        shared.tally.violations.append((seed, result.report))
                        if stopAtFirstDoubleRun, result.violations.contains(where: { $0.what.contains(" at once") }) { shared.stop = true }
                    }
                }
            }
        }
        var tally = shared.lock.withLock { shared.tally }
        tally.violations.sort { $0.seed < $1.seed }
        return tally
    }

    static let variants: [(String, HASafety)] = [
        ("no-self-fence", HASafety(selfFence: false)),
        ("no-guard", HASafety(guardTime: false)),
        ("deadline-from-reply", HASafety(deadlineFromSend: false)),
        ("no-epoch-check", HASafety(epochCheck: false)),
    ]

    /// `--show SEED [--variant NAME]`: one run's full report (its trace, when it broke an invariant).
    static func show(seed: UInt64, variant: String?) -> Int32 {
        var config = variant == nil ? HASimulation.Config() : .agentOnly
        config.traceLines = 100_000
        if let variant {
            guard let safety = variants.first(where: { $0.0 == variant })?.1 else {
                print("unknown variant \(variant); one of: \(variants.map(\.0).joined(separator: ", "))")
                return 2
            }
            config.safety = safety
        }
        let result = HASimulation(seed: seed, config: config).run()
        print(result.report)
        if result.violations.isEmpty { print(result.trace.joined(separator: "\n")) }
        return result.violations.isEmpty ? 0 : 1
    }

    static func run(seeds count: Int, from: UInt64, jobs: Int, variants: Bool, budget: Int) -> Int32 {
        let config = HASimulation.Config()
        let simulated = seconds(config.duration)
        print("HA simulation: \(count) seeds from \(from), \(format(simulated)) s simulated each, \(config.hosts) hosts, \(config.vms) HA VMs, \(jobs) threads")
        let clock = ContinuousClock()
        var tally = Tally()
        let elapsed = clock.measure {
            tally = sweep(from..<(from + UInt64(count)), config: config, jobs: jobs)
        }
        let wall = seconds(elapsed)
        print(String(format: "seeds/s: %.1f (%.0f s wall; %.0f simulated seconds per wall second; %d events)",
                     Double(tally.seeds) / wall, wall, Double(tally.seeds) * simulated / wall, tally.events))
        print("faults: " + tally.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let sorted = tally.recoveries.map(seconds).sorted()
        if sorted.isEmpty {
            print("recoveries: none timed")
        } else {
            print(String(format: "recoveries (crash to every VM of the host running again, %d timed): min %.2f s, median %.2f s, p90 %.2f s, p99 %.2f s, max %.2f s; bound %.2f s",
                         sorted.count, sorted[0], HABench.percentile(sorted, 0.5) ?? 0, HABench.percentile(sorted, 0.9) ?? 0, HABench.percentile(sorted, 0.99) ?? 0, sorted[sorted.count - 1],
                         seconds(HASimulation(seed: 0, config: config).recoveryBound)))
        }
        print("violations: \(tally.violations.count)")
        for violation in tally.violations.prefix(3) {
            print("")
            print(violation.report.split(separator: "\n").prefix(80).joined(separator: "\n"))
        }
        var status: Int32 = tally.violations.isEmpty ? 0 : 1
        if variants {
            print("")
            print("broken variants (one safety measure off, no watchdog; seeds from 0 until the first double run, at most \(budget)):")
            for (name, safety) in Self.variants {
                var broken = HASimulation.Config.agentOnly
                broken.safety = safety
                let found = sweep(0..<UInt64(budget), config: broken, jobs: jobs, stopAtFirstDoubleRun: true)
                let first = found.violations.first { $0.report.contains(" at once") }
                if let first {
                    print("  \(name): caught at seed \(first.seed) (virtsync-bench --ha-sim --show \(first.seed) --variant \(name))")
                } else {
                    print("  \(name): NOT caught within \(budget) seeds")
                    status = 1
                }
            }
        }
        return status
    }

    static func format(_ value: Double) -> String { String(format: "%.0f", value) }
}
