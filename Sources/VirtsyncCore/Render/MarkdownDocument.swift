/// A plan as the pieces of its Markdown rendering, laid out as one text (`single`) or over
/// several comment bodies (`split`). Every piece after the heading starts with the blank line
/// that separates it from the one before, so pieces concatenate in any selection.
struct MarkdownDocument {
    /// Steps of one host in a ```` ```diff ```` block, or the notes as a list. Items are
    /// complete lines, each ending in a newline: all of one step's lines, or one note.
    struct Section {
        enum Kind {
            case host(String)
            case notes
        }

        var kind: Kind
        var items: [String]

        /// The heading (and fence) that opens the section in a part; a continuation says so.
        /// A host name is shortened to 256 bytes here, so that a heading always fits in a part.
        func opening(continued: Bool) -> String {
            let more = continued ? " (continued)" : ""
            switch kind {
            case .host(let host): return "\n#### host \(DisplayText.codeSpan(MarkdownDocument.headingName(host)))\(more)\n\n```diff\n"
            case .notes: return "\n#### Notes\(more)\n\n"
            }
        }

        /// What closes the section at the end of a part.
        var closing: String {
            switch kind {
            case .host: return "```\n"
            case .notes: return ""
            }
        }

        /// What a cut-short item ends with, so that it still reads as part of the section.
        var truncationIndent: String {
            switch kind {
            case .host: return "    "
            case .notes: return "  "
            }
        }
    }

    /// Callouts list at most this many steps or errors, then say how many more there are.
    static let calloutLimit = 20

    /// `\nBase `…` → head `…`, spec `…`\n`: in every part.
    let commitsLine: String
    /// Signer, repository and the review-plan statement: in part 1 only.
    let provenance: String
    /// Callouts and counts, or "No changes": in part 1 only (see `summary(calloutLimit:)`).
    let summary: String
    private let plan: Plan
    let sections: [Section]
    /// The head commit (or spec digest) prefix named in the hidden marker.
    let head: String

    init(_ plan: Plan) {
        let basis = plan.basis
        let spec = DisplayText.codeSpan(String(basis.specDigest.prefix(12)))
        let head = basis.commit.map { DisplayText.codeSpan(String($0.prefix(12))) }
        if let base = basis.baseCommit {
            let baseSpan = DisplayText.codeSpan(String(base.prefix(12)))
            commitsLine = "\nBase \(baseSpan) → head \(head ?? "(no commit)"), spec \(spec)\n"
        } else {
            commitsLine = "\nSpec \(spec)\(head.map { ", commit \($0)" } ?? "")\n"
        }

        var provenance = ""
        var who: [String] = []
        if let signer = basis.signer { who.append("Signed by \(DisplayText.codeSpan(signer))") }
        if let repository = basis.repository { who.append("\(who.isEmpty ? "Repository" : "repository") \(DisplayText.codeSpan(repository))") }
        if !who.isEmpty { provenance += "\n" + who.joined(separator: " · ") + "\n" }
        if let base = basis.baseCommit {
            provenance += "\n> [!NOTE]\n> Review plan: computed without reading any host, assuming the base commit "
                + "\(DisplayText.codeSpan(String(base.prefix(12)))) is exactly what runs. It shows what applying the head commit would change.\n"
        }
        self.provenance = provenance

        self.plan = plan
        summary = MarkdownDocument.summary(plan, calloutLimit: MarkdownDocument.calloutLimit)
        let byHost = Dictionary(grouping: plan.steps, by: \.resource.host)
        var sections = plan.hostsInOrder.map { host in
            Section(kind: .host(host), items: (byHost[host] ?? []).map(MarkdownDocument.step))
        }
        if !plan.notes.isEmpty {
            sections.append(Section(kind: .notes, items: plan.notes.map { "- **\($0.severity.rawValue)**: \(DisplayText.markdown($0.message))\n" }))
        }
        self.sections = sections
        let id = basis.commit ?? basis.specDigest
        self.head = String(id.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
            .prefix(12).map(Character.init))
    }

    /// The whole plan as one text.
    func single() -> String {
        var out = heading(part: 1, of: 1) + commitsLine + provenance + summary
        for section in sections { out += section.opening(continued: false) + section.items.joined() + section.closing }
        return out + marker(part: 1, of: 1)
    }

    /// `### virtsync plan`, with the part number when there are several.
    func heading(part: Int, of count: Int) -> String {
        count == 1 ? "### virtsync plan\n" : "### virtsync plan — part \(part) of \(count)\n"
    }

    /// The hidden comment by which a bot finds and updates its own comments.
    func marker(part: Int, of count: Int) -> String {
        "\n<!-- virtsync-plan part=\(part)/\(count) head=\(head) -->\n"
    }

    // MARK: Pieces

    /// The summary with callouts of at most `limit` lines each (a part too small for the
    /// usual summary gets shorter callouts rather than lose the counts).
    func summary(calloutLimit limit: Int) -> String {
        MarkdownDocument.summary(plan, calloutLimit: limit)
    }

    private static func summary(_ plan: Plan, calloutLimit limit: Int) -> String {
        var out = ""
        let errors = plan.notes.filter { $0.severity == .error }
        if !errors.isEmpty {
            out += "\n> [!CAUTION]\n> \(count(errors.count, "error")):\n"
            out += callout(errors.map { "> - \(DisplayText.markdown($0.message))\n" }, limit: limit, more: "see Notes")
        }
        if plan.steps.isEmpty {
            out += plan.basis.baseCommit == nil
                ? "\n**No changes.** The hosts match the spec.\n"
                : "\n**No changes.** The head commit changes nothing on the hosts.\n"
            return out
        }
        // Data loss is a caution of its own; everything else that stops, restarts, replaces or
        // removes something running is a warning.
        let dataLoss = plan.steps.filter { $0.disruption == .dataLoss }
        if !dataLoss.isEmpty {
            out += "\n> [!CAUTION]\n> \(count(dataLoss.count, "step")) \(dataLoss.count == 1 ? "loses" : "lose") data:\n"
            out += callout(dataLoss.map(calloutLine), limit: limit, more: "see the steps below")
        }
        let disruptive = plan.steps.filter { $0.disruption != .dataLoss && ($0.disruption >= .restart || $0.action == .delete) }
        if !disruptive.isEmpty {
            out += "\n> [!WARNING]\n> \(count(disruptive.count, "disruptive step")):\n"
            out += callout(disruptive.map(calloutLine), limit: limit, more: "see the steps below")
        }
        out += "\n| action | count |\n|---|---:|\n"
        let counts = plan.countsByAction
        for a in StepAction.allCases { if let n = counts[a] { out += "| \(a.rawValue) | \(n) |\n" } }
        out += "\n| disruption | count |\n|---|---:|\n"
        let byDisruption = plan.countsByDisruption
        for d in Disruption.allCases { if let n = byDisruption[d] { out += "| \(d.rawValue) | \(n) |\n" } }
        return out
    }

    /// At most `limit` lines, then how many more there are.
    private static func callout(_ lines: [String], limit: Int, more place: String) -> String {
        guard lines.count > limit else { return lines.joined() }
        if limit == 0 { return "> - (\(place))\n" }
        return lines.prefix(limit).joined() + "> - … and \(lines.count - limit) more (\(place))\n"
    }

    private static func calloutLine(_ s: PlanStep) -> String {
        "> - **\(s.action.rawValue)** \(s.resource.kind.rawValue) \(DisplayText.codeSpan(s.resource.name)) on \(DisplayText.codeSpan(s.resource.host)) (\(s.disruption.rawValue))\n"
    }

    /// A host name for a heading: at most 256 UTF-8 bytes, shortened with `…`.
    static func headingName(_ host: String) -> String {
        let shown = DisplayText.line(host)
        return shown.utf8.count <= 256 ? shown : cut(shown, toBytes: 253) + "…"
    }

    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// One step's lines inside a ```` ```diff ```` block: a marker line (`+` adds, `-` removes or
    /// stops, `!` changes), its field changes and its reason. Every value is on one line and no
    /// line starts with a fence.
    private static func step(_ step: PlanStep) -> String {
        let marker: String
        switch step.action {
        case .create, .start: marker = "+"
        case .delete, .replace, .stop: marker = "-"
        default: marker = "!"
        }
        var out = "\(marker) \(step.action.rawValue) \(step.resource.kind.rawValue) \(DisplayText.line(step.resource.name))\(DisplayText.line(step.migrationTitle)) [\(step.disruption.rawValue)]\n"
        for line in step.migrationDetails { out += "    \(DisplayText.line(line))\n" }
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
        return out + "    # \(DisplayText.line(step.reason))\n"
    }
}
