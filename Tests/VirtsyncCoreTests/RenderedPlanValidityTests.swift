import Testing
import VirtsyncCore

/// Structural checks of the rendered plans that golden files alone do not make: the Markdown
/// stays valid whatever the names and messages hold, and the text keeps its layout.
@Suite("rendered plan validity")
struct RenderedPlanValidityTests {
    @Test("the Markdown stays valid: fences, tables, code spans, no raw HTML, one line per note", arguments: PlanCase.all)
    func markdown(of planCase: PlanCase) {
        let plan = planCase.plan
        let problems = markdownProblems(MarkdownRenderer().render(plan), plan: plan)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the text keeps one line per note and holds no control characters", arguments: PlanCase.all)
    func text(of planCase: PlanCase) {
        let plan = planCase.plan
        let problems = textProblems(TextRenderer(color: false).render(plan), plan: plan)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    // MARK: The smallest inputs that show each renderer problem.

    @Test("a name with a backtick stays one code span in the Markdown summary")
    func backtickInName() {
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, observedFingerprint: "f"), steps: [
            PlanStep(action: .delete, resource: ResourceRef(kind: .domain, host: "local", name: "a`b"), disruption: .replace, reason: "gone"),
        ])
        let markdown = MarkdownRenderer().render(plan)
        let line = markdown.split(separator: "\n").first { $0.hasPrefix("> - ") }.map(String.init) ?? ""
        #expect(codeSpans(line).spans == ["a`b", "local"], "\(line)")
    }

    @Test("a multi-line note stays one Markdown list item and one indented text note")
    func multiLineNote() {
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, observedFingerprint: "f"), steps: [],
                        notes: [PlanNote(severity: .error, message: "host b is unreachable (line one\n```\nline three)")])
        #expect(markdownProblems(MarkdownRenderer().render(plan), plan: plan).isEmpty)
        #expect(textProblems(TextRenderer().render(plan), plan: plan).isEmpty)
    }

    @Test("terminal escape sequences in a message do not reach the terminal")
    func escapeInMessage() {
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, observedFingerprint: "f"), steps: [],
                        notes: [PlanNote(severity: .error, message: "host b is unreachable (timeout)\u{1B}[1A\u{1B}[2K")])
        // Cursor up and erase line: a message could hide the line above it from an operator.
        let reachesTerminal = TextRenderer(color: false).render(plan).unicodeScalars.contains("\u{1B}")
        #expect(!reachesTerminal)
    }

    @Test("a created network without IPv4 lists no field whose value does not change")
    func noOpFieldOnCreate() {
        let desired = DesiredState(hosts: [DesiredHost(name: "local", networks: [NetworkModel(name: "uplink", mode: .bridge, bridge: "br0")])],
                                   specDigest: PlanCase.specDigest)
        let plan = Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
        let noOps = plan.steps.flatMap(\.changes).filter { $0.before == $0.after }.map(\.field)
        #expect(noOps.isEmpty, "\(noOps)")
    }

    @Test("a review plan names base, head, signer and repository, and says no host was read")
    func reviewHeader() {
        let plan = PlanCase.reviewPullRequest.plan
        let lines = MarkdownRenderer().render(plan).split(separator: "\n").map(String.init)
        #expect(lines[1] == "Base `3c5e8a1f0d2b` → head `9b1d4e7a2c5f`, spec `5e7c0a9d1b3f`")
        #expect(codeSpans(lines[2]).spans == [ReviewLab.signer, ReviewLab.repository])
        #expect(lines.contains { $0.contains("computed without reading any host") && $0.contains("`3c5e8a1f0d2b`") })
        let text = TextRenderer().render(plan).split(separator: "\n").map(String.init)
        #expect(text[0] == "virtsync plan (spec 5e7c0a9d1b3f, base 3c5e8a1f0d2b → head 9b1d4e7a2c5f, signed by \(ReviewLab.signer))")
        #expect(text[1].contains("without reading any host"))
        // A plan read from hosts says nothing of the kind.
        let live = MarkdownRenderer().render(PlanCase.pruning.plan) + TextRenderer().render(PlanCase.pruning.plan)
        #expect(!live.contains("without reading any host"))
        #expect(!live.contains("Base "))
    }

    @Test("every delete is called out, data loss as a caution; long callouts are cut with a count")
    func callouts() {
        var steps = (0..<30).map { PlanStep(action: .delete, resource: ResourceRef(kind: .domain, host: "local", name: "vm-\($0)"),
                                            disruption: .none, reason: "no longer in the spec (pruning on)") }
        steps.append(PlanStep(action: .delete, resource: ResourceRef(kind: .volume, host: "local", name: "lab/data"),
                              disruption: .dataLoss, reason: "no longer in the spec"))
        steps.append(PlanStep(action: .update, resource: ResourceRef(kind: .domain, host: "local", name: "web-1"),
                              disruption: .nextBoot, reason: "definition changed"))
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, observedFingerprint: "f"), steps: steps)
        let markdown = MarkdownRenderer().render(plan)
        #expect(markdownProblems(markdown, plan: plan).isEmpty, "\(markdownProblems(markdown, plan: plan))")
        #expect(markdown.contains("> [!WARNING]\n> 30 disruptive steps:\n"))
        #expect(markdown.contains("> - … and 10 more (see the steps below)\n"))
        #expect(markdown.contains("> [!CAUTION]\n> 1 step loses data:\n> - **delete** volume `lab/data` on `local` (data-loss)\n"))
        #expect(!markdown.contains("`web-1` on"))
    }

    @Test("the code span reader follows CommonMark's backtick runs")
    func codeSpanReader() {
        #expect(codeSpans("a `b` c").spans == ["b"])
        #expect(codeSpans("`` a`b ``").spans == ["a`b"])
        #expect(codeSpans("`a`b`").spans == ["a"])
        #expect(codeSpans("`a`b`").rest == "b`")
        #expect(codeSpans("no `span").spans.isEmpty)
    }
}

// MARK: - Checks

/// What makes a rendered Markdown plan invalid or misleading, one message per problem: the
/// structure every part has (`markdownPartProblems`), and that the whole text shows the plan.
func markdownProblems(_ markdown: String, plan: Plan) -> [String] {
    var problems = markdownPartProblems(markdown, part: 1, of: 1)
    let hostsWithSteps = plan.steps.map(\.resource.host).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    let layout = MarkdownLayout(markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))

    // Exactly one ```diff ... ``` pair per host with steps, under a heading holding its name.
    let expectedFences = hostsWithSteps.flatMap { _ in ["```diff", "```"] }
    if layout.fences != expectedFences { problems.append("fence lines \(layout.fences), expected \(expectedFences)") }
    let hostHeadings = layout.outside.map(\.1).filter { $0.hasPrefix("#### host ") }
    for (host, heading) in zip(hostsWithSteps, hostHeadings) where codeSpans(heading).spans != [host] {
        problems.append("host heading does not hold \(host.debugDescription) as one code span: \(heading)")
    }

    // The callouts on top: errors and data loss as cautions, other disruptive steps and every
    // delete as a warning, each step's name and host as code spans, long lists cut with a count.
    let errors = plan.notes.filter { $0.severity == .error }
    let dataLoss = plan.steps.filter { $0.disruption == .dataLoss }
    let disruptive = plan.steps.filter { $0.disruption != .dataLoss && ($0.disruption >= .restart || $0.action == .delete) }
    let boxes = layout.callouts
    let expectedKinds = (errors.isEmpty ? [] : ["CAUTION"]) + (dataLoss.isEmpty ? [] : ["CAUTION"]) + (disruptive.isEmpty ? [] : ["WARNING"])
        + (plan.basis.baseCommit == nil ? [] : ["NOTE"])
    if boxes.map(\.kind).sorted() != expectedKinds.sorted() {
        problems.append("callouts \(boxes.map(\.kind)), expected \(expectedKinds)")
    }
    func check(_ items: [String], against box: [String], names: (Int) -> [String]?) {
        let shown = min(items.count, 20)
        let expectedLines = shown + (items.count > shown ? 1 : 0)
        if box.count != expectedLines { problems.append("\(box.count) callout lines for \(items.count) items: \(box)") }
        for (i, line) in box.prefix(shown).enumerated() {
            if let names = names(i), codeSpans(line).spans != names {
                problems.append("callout line does not hold \(names) as code spans: \(line)")
            }
        }
        if items.count > shown, box.last?.contains("and \(items.count - shown) more") != true {
            problems.append("a cut callout does not say how many more: \(box.last ?? "")")
        }
    }
    let cautions = boxes.filter { $0.kind == "CAUTION" }.map(\.items)
    if !errors.isEmpty, let box = cautions.first { check(errors.map(\.message), against: box) { _ in nil } }
    if !dataLoss.isEmpty, let box = cautions.last {
        check(dataLoss.map(\.id), against: box) { [dataLoss[$0].resource.name, dataLoss[$0].resource.host] }
    }
    if !disruptive.isEmpty, let box = boxes.first(where: { $0.kind == "WARNING" })?.items {
        check(disruptive.map(\.id), against: box) { [disruptive[$0].resource.name, disruptive[$0].resource.host] }
    }

    // One list item per note, each on one line.
    let noteLines = layout.notes
    if noteLines.count != plan.notes.count || !noteLines.allSatisfy({ $0.hasPrefix("- **") }) {
        problems.append("\(plan.notes.count) notes rendered as \(noteLines.count) lines outside code: \(noteLines)")
    }
    if layout.outside.contains(where: { $0.1.hasPrefix("| action |") }) != !plan.steps.isEmpty {
        problems.append("the count tables are \(plan.steps.isEmpty ? "shown for" : "missing from") a plan with \(plan.steps.count) steps")
    }
    return problems
}

/// What makes one Markdown comment body (a whole plan, or part `part` of `count`) invalid on
/// its own: the heading and commits line first, the hidden marker last, balanced fences each
/// under a host heading, no raw HTML but the marker, tables with even rows.
func markdownPartProblems(_ markdown: String, part: Int, of count: Int) -> [String] {
    var problems: [String] = []
    let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let heading = count == 1 ? "### virtsync plan" : "### virtsync plan — part \(part) of \(count)"
    if lines.first != heading { problems.append("first line \(lines.first ?? ""), expected \(heading)") }
    if lines.count < 3 || !lines[1].isEmpty || !(lines[2].hasPrefix("Spec `") || lines[2].hasPrefix("Base `")) {
        problems.append("no commits line under the heading: \(lines.prefix(3))")
    }
    guard markdown.hasSuffix("\n"), lines.count >= 2 else { return problems + ["no newline at the end"] }
    let marker = lines[lines.count - 2]
    let markerPrefix = "<!-- virtsync-plan part=\(part)/\(count) head="
    if !marker.hasPrefix(markerPrefix) || !marker.hasSuffix(" -->")
        || !marker.dropFirst(markerPrefix.count).dropLast(4).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
        problems.append("last line \(marker), expected \(markerPrefix)… -->")
    }
    if lines.count >= 3, !lines[lines.count - 3].isEmpty { problems.append("no blank line before the marker") }

    let layout = MarkdownLayout(lines)
    if layout.openAtEnd { problems.append("a code fence is still open at the end") }
    for (number, line) in layout.fenceOpenings where !line.isEmpty {
        problems.append("line \(number): a code block not under a host heading (after \(line.debugDescription))")
    }
    let pairs = stride(from: 0, to: layout.fences.count, by: 2).map { Array(layout.fences[$0..<min($0 + 2, layout.fences.count)]) }
    if !pairs.allSatisfy({ $0 == ["```diff", "```"] }) {
        problems.append("fence lines \(layout.fences) are not ```diff / ``` pairs")
    }
    var tableColumns: Int?
    for (number, line) in layout.outside {
        // Tables: every row has as many cells as the header.
        if line.hasPrefix("|") {
            let cells = unescapedPipes(line) - 1
            if let columns = tableColumns, cells != columns {
                problems.append("line \(number): table row with \(cells) cells, the header has \(columns): \(line)")
            }
            tableColumns = tableColumns ?? cells
        } else {
            tableColumns = nil
        }
        // No raw HTML outside code, but for the marker.
        if number != lines.count - 1, let html = rawHTML(codeSpans(line).rest) {
            problems.append("line \(number): raw HTML \(html) outside code: \(line)")
        }
    }
    return problems
}

/// The structure of a rendered plan's lines: fences, what lies outside them, the callout boxes
/// and the note lines.
struct MarkdownLayout {
    /// Fence lines in order (```` ```diff ````, ```` ``` ````).
    var fences: [String] = []
    /// Lines outside code blocks, with their 1-based numbers.
    var outside: [(Int, String)] = []
    /// For each opening fence, its line number and the heading two lines above, emptied when
    /// that is a host heading followed by a blank line (so a non-empty value is a problem).
    var fenceOpenings: [(Int, String)] = []
    var openAtEnd = false
    /// `> [!KIND]` boxes with their `> - ` lines.
    var callouts: [(kind: String, items: [String])] = []
    /// Non-empty lines after `#### Notes` up to the marker.
    var notes: [String] = []

    init(_ lines: [String]) {
        var inFence = false
        var inNotes = false
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " }
            if line.count - trimmed.count <= 3, trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fences.append(String(trimmed))
                if !inFence {
                    let above = index >= 2 ? lines[index - 2] : ""
                    let underHost = above.hasPrefix("#### host ") && lines[index - 1].isEmpty
                    fenceOpenings.append((index + 1, underHost ? "" : above))
                }
                inFence.toggle()
                continue
            }
            guard !inFence else { continue }
            outside.append((index + 1, line))
            if line.hasPrefix("> [!"), line.hasSuffix("]") {
                callouts.append((String(line.dropFirst(4).dropLast()), []))
            } else if line.hasPrefix("> - "), !callouts.isEmpty {
                callouts[callouts.count - 1].items.append(line)
            }
            if line.hasPrefix("#### Notes") {
                inNotes = true
            } else if line.hasPrefix("<!-- virtsync-plan ") {
                inNotes = false
            } else if inNotes, !line.isEmpty {
                notes.append(line)
            }
        }
        openAtEnd = inFence
    }
}

/// What breaks the layout of a rendered text plan, one message per problem.
func textProblems(_ text: String, plan: Plan) -> [String] {
    var problems: [String] = []
    if let control = text.unicodeScalars.first(where: { $0 != "\n" && ($0.value < 0x20 || $0.value == 0x7F) }) {
        problems.append("control character U+\(String(control.value, radix: 16, uppercase: true)) in the text")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if let start = lines.firstIndex(of: "Notes:") {
        // The notes run to the blank line before the closing summary.
        let notes = lines[(start + 1)...].prefix { !$0.isEmpty }
        let tagged = notes.filter { $0.hasPrefix("  info: ") || $0.hasPrefix("  warning: ") || $0.hasPrefix("  error: ") }
        if notes.count != plan.notes.count || tagged.count != notes.count {
            problems.append("\(plan.notes.count) notes rendered as \(notes.count) lines, \(tagged.count) of them tagged")
        }
    } else if !plan.notes.isEmpty {
        problems.append("no Notes section for \(plan.notes.count) notes")
    }
    return problems
}

/// The code spans of one line of Markdown (CommonMark: a run of n backticks up to the next run
/// of exactly n), and the line without them.
func codeSpans(_ line: String) -> (spans: [String], rest: String) {
    let c = Array(line)
    var spans: [String] = []
    var rest = ""
    var i = 0
    func run(at j: Int) -> Int {
        var k = j
        while k < c.count, c[k] == "`" { k += 1 }
        return k - j
    }
    while i < c.count {
        if c[i] == "\\", i + 1 < c.count {
            rest.append(c[i]); rest.append(c[i + 1]); i += 2
            continue
        }
        guard c[i] == "`" else { rest.append(c[i]); i += 1; continue }
        let n = run(at: i)
        var j = i + n
        var close: Int?
        while j < c.count {
            if c[j] == "`" {
                let m = run(at: j)
                if m == n { close = j; break }
                j += m
            } else {
                j += 1
            }
        }
        if let close {
            var content = String(c[(i + n)..<close])
            if content.count >= 2, content.hasPrefix(" "), content.hasSuffix(" "), content.contains(where: { $0 != " " }) {
                content = String(content.dropFirst().dropLast())
            }
            spans.append(content)
            i = close + n
        } else {
            rest += String(repeating: "`", count: n)
            i += n
        }
    }
    return (spans, rest)
}

/// The first raw HTML tag in a Markdown fragment (`<` followed by a letter, `/`, `!` or `?`).
private func rawHTML(_ text: String) -> String? {
    let c = Array(text)
    for i in c.indices where c[i] == "<" && i + 1 < c.count && (c[i + 1].isLetter || "/!?".contains(c[i + 1])) {
        return String(c[i..<min(c.count, i + 12)])
    }
    return nil
}

/// Pipes in a table row that are cell separators (not escaped with a backslash).
private func unescapedPipes(_ line: String) -> Int {
    var count = 0
    var escaped = false
    for ch in line {
        if escaped { escaped = false; continue }
        if ch == "\\" { escaped = true } else if ch == "|" { count += 1 }
    }
    return count
}
