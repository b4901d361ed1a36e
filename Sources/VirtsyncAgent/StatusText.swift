import Foundation
import VirtsyncEngine

/// `virtsync status` as text: the agent, the commits, the conditions, drift and the last passes.
public enum StatusText {
    /// Renders `status`; `running` says whether the agent process is alive.
    public static func render(_ status: AgentStatus, running: Bool) -> String {
        var out = "virtsync agent for host \(status.host), following \(status.source)\n"
        out += "Agent:      " + (running ? "running (pid \(status.pid)), started \(time(status.startedAt))"
                                         : "NOT RUNNING (pid \(status.pid) is gone); this is the status it left") + "\n"
        if let suspended = status.suspended {
            out += "Suspended:  \(suspended.summary)" + (suspended.by.map { " (by \($0))" } ?? "")
                + "; passes apply nothing until virtsync resume (HA keeps running)\n"
        }
        if let applied = status.lastApplied {
            out += "Applied:    \(applied.commit.prefix(12))" + (applied.signer.map { ", signed by \($0)" } ?? "")
                + (applied.at.map { ", at \(time($0))" } ?? "") + "\n"
        } else {
            out += "Applied:    no commit applied yet\n"
        }
        if let attempted = status.lastAttempted, attempted.commit != status.lastApplied?.commit || attempted.error != nil {
            out += "Attempted:  \(attempted.commit.prefix(12))" + (attempted.at.map { ", at \(time($0))" } ?? "")
                + (attempted.error.map { ", failed: \($0)" } ?? "") + "\n"
        }
        out += "\nConditions:\n"
        let width = max(12, (status.conditions.map(\.reason.count).max() ?? 0) + 2)
        for condition in status.conditions {
            out += "  " + pad(condition.type.rawValue, 13) + pad(condition.status ? "True" : "False", 7) + pad(condition.reason, width)
                + condition.message + (condition.message.isEmpty ? "" : " ") + "(since \(time(condition.since)))\n"
        }
        out += "\nDrift found by the last pass: " + (status.drift.isEmpty ? "none\n" : "\(status.drift.count)\n")
        for item in status.drift { out += "  \(item.action) \(item.resource): \(item.reason)\n" }
        if !status.restartLimited.isEmpty {
            out += "\nAt their restart limit (left stopped):\n"
            for (name, message) in status.restartLimited.sorted(by: { $0.key < $1.key }) { out += "  \(name): \(message)\n" }
        }
        if let ha = status.ha { out += "\n" + renderHA(ha) }
        out += "\nLast passes (newest first):\n"
        if status.passes.isEmpty { out += "  none yet\n" }
        for pass in status.passes {
            out += "  " + pad("#\(pass.id)", 6) + pad(time(pass.startedAt), 22) + pad(pass.trigger.rawValue, 9)
                + pad(String(format: "%.2fs", pass.seconds), 9) + pad(pass.outcome.rawValue, 12) + pad(pass.reason, 22)
                + "planned: \(pass.plannedSummary)"
                + (pass.enforcedCommit.map { ", commit \($0.prefix(12))" } ?? "")
                + (pass.message.map { "\n        \($0)" } ?? "") + "\n"
        }
        return out
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
