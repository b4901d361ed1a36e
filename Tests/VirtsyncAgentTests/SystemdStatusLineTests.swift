import Foundation
import Testing
@testable import VirtsyncAgent
import VirtsyncEngine
import VirtsyncTesting
import VirtsyncTestSupport

/// The `STATUS=` line sent to systemd after each pass.
@Suite("systemd status line")
struct SystemdStatusLineTests {
    static let commit = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"

    static func record(_ outcome: PassOutcome, reason: String, message: String? = nil, planned: [String: Int] = [:],
                       commit: String? = SystemdStatusLineTests.commit) -> PassRecord {
        PassRecord(id: 4, trigger: .interval, startedAt: Date(), enforcedCommit: commit, planned: planned, outcome: outcome,
                   message: message, reason: reason)
    }

    @Test("each outcome reads as one short line", arguments: [
        (SystemdStatusLineTests.record(.applied, reason: "Applied", planned: ["create": 2, "update": 1]), 60.0, "applied 1a2b3c4 (3 steps); next pass in 1m"),
        (SystemdStatusLineTests.record(.applied, reason: "Applied", planned: ["start": 1]), 90.0, "applied 1a2b3c4 (1 step); next pass in 1m30s"),
        (SystemdStatusLineTests.record(.converged, reason: "Converged"), 59.6, "converged 1a2b3c4; next pass in 1m"),
        (SystemdStatusLineTests.record(.failed, reason: "HostUnreachable", message: "connection refused"), 4.0,
         "failed: HostUnreachable: connection refused; enforcing 1a2b3c4; retry in 4s"),
        (SystemdStatusLineTests.record(.stalled, reason: "InvalidSpec", message: "vms/a.yaml:3: bad", commit: nil), 60.0,
         "stalled: InvalidSpec: vms/a.yaml:3: bad; next pass in 1m"),
        (SystemdStatusLineTests.record(.suspended, reason: "Suspended", message: "suspended since 2026-12-07T11:00:00Z: disk swap", commit: nil), 60.0,
         "suspended since 2026-12-07T11:00:00Z: disk swap"),
        (SystemdStatusLineTests.record(.converged, reason: "Converged"), 0.2, "converged 1a2b3c4; next pass in 0s"),
    ] as [(PassRecord, Double, String)])
    func lines(_ record: PassRecord, next: Double, expected: String) {
        #expect(SystemdStatusLine.render(record, next: next) == expected)
    }

    /// Answers every pass with `record`.
    struct FixedRunner: PassRunner {
        let record: PassRecord
        func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord {
            var record = record
            record.id = id
            return record
        }
    }

    @Test("after a pass of the loop, STATUS= arrives on systemd's notification socket (a real datagram)")
    func sentAfterPass() async throws {
        let scratch = try ScratchDirectory(prefix: "notify")
        let receiver = try DatagramReceiver(address: scratch.path("notify.sock"))
        let clock = ManualClock()
        let loop = AgentLoop(runner: FixedRunner(record: Self.record(.applied, reason: "Applied", planned: ["create": 3])), clock: clock,
                             timing: AgentTiming(interval: 60, jitter: 0))
        SystemdStatusLine.report(loop, to: SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address]))
        let task = Task { await loop.run() }
        defer {
            loop.stop()
            task.cancel()
        }
        #expect(try receiver.receive() == "STATUS=applied 1a2b3c4 (3 steps); next pass in 1m")
    }
}
