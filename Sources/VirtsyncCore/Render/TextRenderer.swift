/// Renders a plan for a terminal: `+ ~ - >` markers, field changes, reasons, notes; with ANSI
/// colour when asked (on a TTY). Every value is shown on one line with control characters made
/// visible, so nothing from a spec or a host can rewrite the terminal.
public struct TextRenderer: Sendable {
    public var color: Bool
    public init(color: Bool = false) { self.color = color }

    public func render(_ plan: Plan) -> String {
        var out = header(plan.basis)
        if plan.steps.isEmpty {
            out += "\nNo changes. The hosts match the spec.\n"
        } else {
            // Grouped by host, each host's steps in execution order.
            for host in plan.hostsInOrder {
                out += "\nhost \(DisplayText.line(host))\n"
                for step in plan.steps where step.resource.host == host { out += renderStep(step) }
            }
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
                out += "  \(tag): \(DisplayText.line(note.message))\n"
            }
        }
        out += "\n" + PlanSummary(plan).line + "\n"
        return out
    }

    /// `virtsync plan (spec …, commit …)`; a review plan names base → head and says how it was
    /// computed; the signer when signatures were verified.
    private func header(_ basis: PlanBasis) -> String {
        func short(_ id: String) -> String { DisplayText.line(String(id.prefix(12))) }
        var facts = ["spec \(DisplayText.line(String(basis.specDigest.prefix(12))))"]
        if let base = basis.baseCommit {
            facts.append("base \(short(base)) → head \(basis.commit.map(short) ?? "(no commit)")")
        } else if let commit = basis.commit {
            facts.append("commit \(short(commit))")
        }
        if let signer = basis.signer { facts.append("signed by \(DisplayText.line(signer))") }
        var out = "virtsync plan (\(facts.joined(separator: ", ")))\n"
        if let base = basis.baseCommit {
            out += "Review plan: computed without reading any host, assuming base \(short(base)) is exactly what runs.\n"
        }
        return out
    }

    private func renderStep(_ step: PlanStep) -> String {
        let actionColor: ANSI
        switch step.action {
        case .create, .start, .adopt: actionColor = .green
        case .update, .restart, .migrate, .stop, .suspend, .resume: actionColor = .yellow
        case .replace, .delete: actionColor = .red
        }
        let symbol = step.action.symbol.padding(3)
        var out = "  " + paint("\(symbol) \(step.action.rawValue) \(step.resource.kind.rawValue) \(DisplayText.line(step.resource.name))\(DisplayText.line(step.migrationTitle))", actionColor)
        out += "  [" + paint(step.disruption.rawValue, colorOf(step.disruption)) + "]\n"
        for line in step.migrationDetails { out += "      \(DisplayText.line(line))\n" }
        for change in step.changes {
            let value: String
            switch (change.before, change.after) {
            case (nil, let after?) where step.action == .create: value = DisplayText.line(after)
            case (nil, let after?): value = "(none) → \(DisplayText.line(after))"
            case (let before?, nil): value = "\(DisplayText.line(before)) → (removed)"
            case (let before?, let after?): value = "\(DisplayText.line(before)) → \(DisplayText.line(after))"
            case (nil, nil): value = "(none)"
            }
            let differs = change.disruption != step.disruption && change.disruption != .none
            out += "      \(DisplayText.line(change.field)): \(value)\(differs ? "  (\(change.disruption.rawValue))" : "")\n"
        }
        out += paint("      # \(DisplayText.line(step.reason))", .dim) + "\n"
        return out
    }

    private func colorOf(_ d: Disruption) -> ANSI {
        switch d {
        case .none: return .dim
        case .live: return .green
        case .nextBoot, .restart: return .yellow
        case .stop, .replace, .dataLoss: return .red
        }
    }

    enum ANSI: String {
        case red = "31", green = "32", yellow = "33", dim = "2"
    }

    private func paint(_ s: String, _ c: ANSI) -> String {
        color ? "\u{1B}[\(c.rawValue)m\(s)\u{1B}[0m" : s
    }
}

extension PlanSummary {
    /// `Plan: 2 to create, 1 to update. Disruption: 1 live, 1 next-boot. 1 error (see Notes).`
    public var line: String {
        let actions = StepAction.allCases.compactMap { a in byAction[a.rawValue].flatMap { $0 > 0 ? "\($0) to \(a.rawValue)" : nil } }
        var s = "Plan: " + (actions.isEmpty ? "no changes" : actions.joined(separator: ", ")) + "."
        let disruptive = Disruption.allCases.filter { $0 != .none }.compactMap { d in
            byDisruption[d.rawValue].flatMap { $0 > 0 ? "\($0) \(d.rawValue)" : nil }
        }
        if !disruptive.isEmpty { s += " Disruption: " + disruptive.joined(separator: ", ") + "." }
        let errors = notes["error"] ?? 0, warnings = notes["warning"] ?? 0
        var flagged: [String] = []
        if errors > 0 { flagged.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if warnings > 0 { flagged.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
        if !flagged.isEmpty { s += " " + flagged.joined(separator: ", ") + " (see Notes)." }
        return s
    }
}

extension Plan {
    /// Hosts in the order their first step appears.
    var hostsInOrder: [String] {
        var seen = Set<String>()
        return steps.map(\.resource.host).filter { seen.insert($0).inserted }
    }
}

extension String {
    /// Pads with spaces on the right to `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
