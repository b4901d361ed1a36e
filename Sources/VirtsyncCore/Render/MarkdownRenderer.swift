/// Renders a plan as Markdown for a pull-request comment: a summary on top with anything
/// destructive called out, then the steps grouped by host.
public struct MarkdownRenderer: Sendable {
    public init() {}

    public func render(_ plan: Plan) -> String {
        var out = "### virtsync plan\n\n"
        out += "Spec `\(plan.basis.specDigest.prefix(12))`"
        if let commit = plan.basis.commit { out += ", commit \(DisplayText.codeSpan(String(commit.prefix(12))))" }
        out += "\n\n"
        let errors = plan.notes.filter { $0.severity == .error }
        if !errors.isEmpty {
            out += "> [!CAUTION]\n> \(errors.count) error\(errors.count == 1 ? "" : "s"):\n"
            for n in errors { out += "> - \(DisplayText.markdown(n.message))\n" }
            out += "\n"
        }
        if plan.steps.isEmpty {
            out += "**No changes.** The hosts match the spec.\n"
        } else {
            let destructive = plan.steps.filter { $0.disruption >= .restart }
            if !destructive.isEmpty {
                out += "> [!WARNING]\n> \(destructive.count) disruptive step\(destructive.count == 1 ? "" : "s"):\n"
                for s in destructive {
                    out += "> - **\(s.action.rawValue)** \(s.resource.kind.rawValue) \(DisplayText.codeSpan(s.resource.name)) on \(DisplayText.codeSpan(s.resource.host)) (\(s.disruption.rawValue))\n"
                }
                out += "\n"
            }
            out += "| action | count |\n|---|---:|\n"
            let counts = plan.countsByAction
            for a in StepAction.allCases { if let n = counts[a] { out += "| \(a.rawValue) | \(n) |\n" } }
            out += "\n| disruption | count |\n|---|---:|\n"
            let byD = plan.countsByDisruption
            for d in Disruption.allCases { if let n = byD[d] { out += "| \(d.rawValue) | \(n) |\n" } }
            for host in plan.hostsInOrder {
                out += "\n#### host \(DisplayText.codeSpan(host))\n\n```diff\n"
                for step in plan.steps where step.resource.host == host {
                    let marker: String
                    switch step.action {
                    case .create, .start: marker = "+"
                    case .delete, .replace, .stop: marker = "-"
                    default: marker = "!"
                    }
                    out += "\(marker) \(step.action.rawValue) \(step.resource.kind.rawValue) \(DisplayText.line(step.resource.name)) [\(step.disruption.rawValue)]\n"
                    for c in step.changes {
                        let value: String
                        switch (c.before, c.after) {
                        case (nil, let after?) where step.action == .create: value = DisplayText.line(after)
                        case (nil, let after?): value = "(none) -> \(DisplayText.line(after))"
                        case (let before?, nil): value = "\(DisplayText.line(before)) -> (removed)"
                        case (let before?, let after?): value = "\(DisplayText.line(before)) -> \(DisplayText.line(after))"
                        case (nil, nil): value = "(none)"
                        }
                        let differs = c.disruption != step.disruption && c.disruption != .none
                        out += "    \(DisplayText.line(c.field)): \(value)\(differs ? "  (\(c.disruption.rawValue))" : "")\n"
                    }
                    out += "    # \(DisplayText.line(step.reason))\n"
                }
                out += "```\n"
            }
        }
        if !plan.notes.isEmpty {
            out += "\n#### Notes\n\n"
            for n in plan.notes { out += "- **\(n.severity.rawValue)**: \(DisplayText.markdown(n.message))\n" }
        }
        return out
    }
}
