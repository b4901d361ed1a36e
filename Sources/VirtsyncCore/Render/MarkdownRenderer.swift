/// Renders a plan as Markdown for a pull-request comment: a summary on top with anything
/// destructive called out, then the steps grouped by host.
public struct MarkdownRenderer: Sendable {
    public init() {}

    public func render(_ plan: Plan) -> String {
        var out = "### virtsync plan\n\n"
        out += "Spec `\(plan.basis.specDigest.prefix(12))`"
        if let commit = plan.basis.commit { out += ", commit `\(commit.prefix(12))`" }
        out += "\n\n"
        if plan.steps.isEmpty {
            out += "**No changes.** The hosts match the spec.\n"
        } else {
            let destructive = plan.steps.filter { $0.disruption >= .restart }
            if !destructive.isEmpty {
                out += "> [!WARNING]\n> \(destructive.count) disruptive step\(destructive.count == 1 ? "" : "s"):\n"
                for s in destructive {
                    out += "> - **\(s.action.rawValue)** \(s.resource.kind.rawValue) `\(s.resource.name)` on `\(s.resource.host)` (\(s.disruption.rawValue))\n"
                }
                out += "\n"
            }
            out += "| action | count |\n|---|---:|\n"
            let counts = plan.countsByAction
            for a in StepAction.allCases { if let n = counts[a] { out += "| \(a.rawValue) | \(n) |\n" } }
            out += "\n| disruption | count |\n|---|---:|\n"
            let byD = plan.countsByDisruption
            for d in Disruption.allCases { if let n = byD[d] { out += "| \(d.rawValue) | \(n) |\n" } }
            let hosts = plan.steps.map(\.resource.host).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            for host in hosts {
                out += "\n#### host `\(host)`\n\n```diff\n"
                for step in plan.steps where step.resource.host == host {
                    let marker: String
                    switch step.action {
                    case .create, .start: marker = "+"
                    case .delete, .replace, .stop: marker = "-"
                    default: marker = "!"
                    }
                    out += "\(marker) \(step.action.rawValue) \(step.resource.kind.rawValue) \(step.resource.name) [\(step.disruption.rawValue)]\n"
                    for c in step.changes {
                        out += "    \(c.field): \(c.before ?? "(none)") -> \(c.after ?? "(none)")\n"
                    }
                    out += "    # \(step.reason)\n"
                }
                out += "```\n"
            }
        }
        if !plan.notes.isEmpty {
            out += "\n#### Notes\n\n"
            for n in plan.notes { out += "- **\(n.severity.rawValue)**: \(escape(n.message))\n" }
        }
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingAll("|", with: "\\|").replacingAll("<", with: "&lt;")
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation needed).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
