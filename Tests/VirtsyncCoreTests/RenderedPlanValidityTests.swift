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

/// What makes a rendered Markdown plan invalid or misleading, one message per problem.
func markdownProblems(_ markdown: String, plan: Plan) -> [String] {
    var inCaution = false
    var problems: [String] = []
    let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let hostsWithSteps = plan.steps.map(\.resource.host).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }

    // Fences: exactly one ```diff ... ``` pair per host with steps, nothing else opening one.
    var fences: [String] = []
    var inFence = false
    var outside: [(Int, String)] = []
    for (number, line) in lines.enumerated() {
        let trimmed = line.drop { $0 == " " }
        if line.count - trimmed.count <= 3, trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
            fences.append(String(trimmed))
            inFence.toggle()
        } else if !inFence {
            outside.append((number + 1, line))
        }
    }
    let expectedFences = hostsWithSteps.flatMap { _ in ["```diff", "```"] }
    if fences != expectedFences { problems.append("fence lines \(fences), expected \(expectedFences)") }

    var tableColumns: Int?
    var hostHeadings: [String] = []
    var warningLines: [String] = []
    var noteLines: [String] = []
    var inNotes = false
    for (number, line) in outside {
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
        // No raw HTML outside code.
        if let html = rawHTML(codeSpans(line).rest) { problems.append("line \(number): raw HTML \(html) outside code: \(line)") }
        if line.hasPrefix("#### host ") { hostHeadings.append(line) }
        if line.hasPrefix("> [!") { inCaution = line == "> [!CAUTION]" }
        if line.hasPrefix("> - "), !inCaution { warningLines.append(line) }
        if line == "#### Notes" { inNotes = true } else if inNotes, !line.isEmpty { noteLines.append(line) }
    }

    // Names sit in code spans whole: host headings and the disruptive-step summary.
    for (host, heading) in zip(hostsWithSteps, hostHeadings) where codeSpans(heading).spans != [host] {
        problems.append("host heading does not hold \(host.debugDescription) as one code span: \(heading)")
    }
    // The error box lists error notes; the warning box lists disruptive steps.
    let destructive = plan.steps.filter { $0.disruption >= .restart }
    if warningLines.count != destructive.count {
        problems.append("\(warningLines.count) lines in the warning summary for \(destructive.count) disruptive steps")
    }
    for (step, line) in zip(destructive, warningLines) where codeSpans(line).spans != [step.resource.name, step.resource.host] {
        problems.append("summary line does not hold \(step.resource.name.debugDescription) and \(step.resource.host.debugDescription) as code spans: \(line)")
    }

    // One list item per note, each on one line.
    if noteLines.count != plan.notes.count || !noteLines.allSatisfy({ $0.hasPrefix("- **") }) {
        problems.append("\(plan.notes.count) notes rendered as \(noteLines.count) lines outside code: \(noteLines)")
    }
    return problems
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
