import VirtsyncEngine
import VirtsyncSpec

/// The `STATUS=` line `systemctl status virtsync-agent` shows after each pass:
/// `applied 1a2b3c4 (3 steps); next pass in 1m`, `converged 1a2b3c4; next pass in 1m`,
/// `failed: HostUnreachable: ...; retry in 4s`, `suspended since ...: reason`.
package enum SystemdStatusLine {
    /// The line for `record`, with the next pass due in `next` seconds.
    package static func render(_ record: PassRecord, next: Double) -> String {
        let commit = record.enforcedCommit.map { " " + $0.prefix(7) } ?? ""
        let steps = record.planned.values.reduce(0, +)
        let due = "; next pass in " + (next < 1 ? "0s" : DurationFormat.format(next.rounded()))
        switch record.outcome {
        case .converged:
            return "converged\(commit)\(due)"
        case .applied:
            return "applied\(commit) (\(steps) step\(steps == 1 ? "" : "s"))\(due)"
        case .suspended:
            return record.message ?? "suspended"
        case .interrupted:
            return "stopping: \(record.message ?? "interrupted")"
        case .failed, .stalled, .waiting:
            return "\(record.outcome.rawValue): \(record.reason)" + (record.message.map { ": \($0)" } ?? "")
                + (record.enforcedCommit.map { "; enforcing \($0.prefix(7))" } ?? "")
                + (record.outcome == .failed ? "; retry in " + (next < 1 ? "0s" : DurationFormat.format(next.rounded())) : due)
        }
    }

    /// Sends the line after every pass of `loop` through `notifier` (nothing outside systemd).
    package static func report(_ loop: AgentLoop, to notifier: SystemdNotifier) {
        guard notifier.isEnabled else { return }
        loop.onPassFinished { record, next in _ = notifier.status(render(record, next: next)) }
    }
}
