/// Renders a plan for a terminal: `+ ~ - >` markers, field changes, reasons, notes; with ANSI
/// colour when asked (on a TTY).
public struct TextRenderer: Sendable {
    public var color: Bool
    public init(color: Bool = false) { self.color = color }

    public func render(_ plan: Plan) -> String {
        var out = ""
        out += "virtsync plan (spec \(plan.basis.specDigest.prefix(12))\(plan.basis.commit.map { ", commit \($0.prefix(12))" } ?? ""))\n"
        if plan.steps.isEmpty {
            out += "\nNo changes. The hosts match the spec.\n"
        } else {
            // Grouped by host, each host's steps in execution order.
            let hosts = plan.steps.map(\.resource.host).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            for host in hosts {
                out += "\nhost \(host)\n"
                for step in plan.steps where step.resource.host == host { out += renderStep(step) }
            }
            out += "\n" + PlanSummary(plan).line + "\n"
        }
        if !plan.notes.isEmpty {
            out += "\nNotes:\n"
            for note in plan.notes {
                let tag: String
                switch note.severity {
                case .info: tag = paint("info", .dim)
                case .warning: tag = paint("warning", .yellow)
                case .error: tag = paint("error", .red)
                }
                out += "  \(tag): \(note.message)\n"
            }
        }
        return out
    }

    private func renderStep(_ step: PlanStep) -> String {
        let colorOf: ANSI
        switch step.action {
        case .create, .start: colorOf = .green
        case .update, .restart, .migrate, .stop: colorOf = .yellow
        case .replace, .delete: colorOf = .red
        }
        var out = "  " + paint("\(step.action.symbol) \(step.action.rawValue) \(step.resource.kind.rawValue) \(step.resource.name)", colorOf)
        out += "  [\(step.disruption.rawValue)]\n"
        for change in step.changes {
            let before = change.before ?? "(none)"
            let after = change.after ?? "(none)"
            let arrow: String
            if change.before == nil { arrow = after }
            else if change.after == nil { arrow = "\(before) → (removed)" }
            else { arrow = "\(before) → \(after)" }
            let cls = change.disruption == step.disruption || change.disruption == .none ? "" : "  (\(change.disruption.rawValue))"
            out += "      \(change.field): \(arrow)\(cls)\n"
        }
        out += paint("      # \(step.reason)", .dim) + "\n"
        return out
    }

    enum ANSI: String {
        case red = "31", green = "32", yellow = "33", dim = "2"
    }

    private func paint(_ s: String, _ c: ANSI) -> String {
        color ? "\u{1B}[\(c.rawValue)m\(s)\u{1B}[0m" : s
    }
}

/// Counts of a plan, shared by the renderers.
public struct PlanSummary: Sendable {
    public let plan: Plan
    public init(_ plan: Plan) { self.plan = plan }

    /// `Plan: 2 to create, 1 to update, 1 to start. Disruption: 1 live, 1 next-boot.`
    public var line: String {
        let counts = plan.countsByAction
        let actions = StepAction.allCases.compactMap { a in counts[a].map { "\($0) to \(a.rawValue)" } }
        var s = "Plan: " + (actions.isEmpty ? "no changes" : actions.joined(separator: ", ")) + "."
        let disruptive = Disruption.allCases.filter { $0 != .none }.compactMap { d in plan.countsByDisruption[d].map { "\($0) \(d.rawValue)" } }
        if !disruptive.isEmpty { s += " Disruption: " + disruptive.joined(separator: ", ") + "." }
        return s
    }
}
