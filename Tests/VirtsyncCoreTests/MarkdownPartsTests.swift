import Testing
import VirtsyncCore

/// `MarkdownRenderer.renderParts`: a plan too long for one pull-request comment is split into
/// numbered parts, each within the limit and valid Markdown on its own.
@Suite("Markdown parts")
struct MarkdownPartsTests {
    /// A review plan of `perHost` steps on each of three hosts (creates with many fields,
    /// updates, restarts, deletes with and without data loss) and `notes` notes.
    static func bigPlan(perHost: Int = 1_500, notes: Int = 400) -> Plan {
        var steps: [PlanStep] = []
        for h in 0..<3 {
            let host = "host-\(h)"
            for i in 0..<perHost {
                let name = "vm-\(i)"
                let ref = ResourceRef(kind: .domain, host: host, name: name)
                switch i % 10 {
                case 0:
                    steps.append(PlanStep(action: .delete, resource: ResourceRef(kind: .volume, host: host, name: "lab/\(name).qcow2"),
                                          changes: [FieldChange(field: "size", before: "20GiB", after: nil, disruption: .dataLoss)],
                                          disruption: .dataLoss, reason: "no longer in the spec"))
                case 1:
                    steps.append(PlanStep(action: .restart, resource: ref, disruption: .restart, reason: "apply changes that need a restart"))
                case 2:
                    steps.append(PlanStep(action: .delete, resource: ref, disruption: .none, reason: "no longer in the spec (pruning on)"))
                case 3, 4:
                    steps.append(PlanStep(action: .update, resource: ref,
                                          changes: [FieldChange(field: "memory", before: "1GiB", after: "2GiB", disruption: .live)],
                                          disruption: .live, reason: "changed live on the running VM and in its definition"))
                default:
                    let fields = (0..<(i % 7 + 2)).map { FieldChange(field: "disks[\($0)]", before: nil, after: "vd\($0) virtio volume lab/\(name)-\($0).qcow2", disruption: .none) }
                    steps.append(PlanStep(action: .create, resource: ref, changes: fields, disruption: .none, reason: "in the spec, not on the host"))
                }
            }
        }
        let noteList = (0..<notes).map { PlanNote(severity: $0 % 3 == 0 ? .error : .info, message: "note \($0): domain vm-\($0) restart pending") }
        let basis = PlanBasis(specDigest: PlanCase.specDigest, commit: PlanCase.commit, observedFingerprint: "f",
                              baseCommit: ReviewLab.baseCommit, signer: ReviewLab.signer, repository: ReviewLab.repository)
        return Plan(basis: basis, steps: steps, notes: noteList)
    }

    @Test("a plan that fits is one part, exactly the rendering", arguments: PlanCase.all)
    func fits(_ planCase: PlanCase) {
        let plan = planCase.plan
        #expect(MarkdownRenderer().renderParts(plan) == [MarkdownRenderer().render(plan)])
    }

    @Test("a plan one byte over the limit is split; at the limit it is not")
    func atTheLimit() {
        let plan = Self.bigPlan(perHost: 40, notes: 5)
        let whole = MarkdownRenderer().render(plan)
        let size = whole.utf8.count
        #expect(MarkdownRenderer().renderParts(plan, limit: size) == [whole])
        let split = MarkdownRenderer().renderParts(plan, limit: size - 1)
        #expect(split.count == 2)
        expectValidParts(split, of: plan, limit: size - 1)
    }

    @Test("thousands of steps: every part within the limit, numbered, valid, each step and note exactly once",
          arguments: [MarkdownRenderer.commentLimit, 8_000, MarkdownRenderer.minimumPartLimit])
    func thousands(limit: Int) {
        let plan = Self.bigPlan()
        let parts = MarkdownRenderer().renderParts(plan, limit: limit)
        #expect(parts.count > 1)
        expectValidParts(parts, of: plan, limit: limit)
    }

    @Test("a step larger than a part is cut short with a visible marker; the steps around it are whole")
    func giantStep() {
        let fields = (0..<20_000).map { FieldChange(field: "disks[\($0)]", before: nil, after: "vd\($0) virtio file /srv/images/disk-\($0).img", disruption: .none) }
        let ref = { (name: String) in ResourceRef(kind: .domain, host: "local", name: name) }
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, commit: PlanCase.commit, observedFingerprint: "f"), steps: [
            PlanStep(action: .create, resource: ref("before"), disruption: .none, reason: "in the spec, not on the host"),
            PlanStep(action: .create, resource: ref("giant"), changes: fields, disruption: .none, reason: "in the spec, not on the host"),
            PlanStep(action: .create, resource: ref("after"), disruption: .none, reason: "in the spec, not on the host"),
        ])
        let parts = MarkdownRenderer().renderParts(plan)
        #expect(parts.allSatisfy { $0.utf8.count <= MarkdownRenderer.commentLimit })
        for (i, part) in parts.enumerated() {
            let problems = markdownPartProblems(part, part: i + 1, of: parts.count)
            #expect(problems.isEmpty, "part \(i + 1): \(problems)")
        }
        let code = parts.flatMap(fencedLines)
        #expect(code.filter { $0.hasPrefix("+ create domain ") } == ["+ create domain before [none]", "+ create domain giant [none]", "+ create domain after [none]"])
        #expect(code.contains("    … (truncated: the rest is not shown)"))
        #expect(code.contains("    # in the spec, not on the host"))
    }

    @Test("a single line larger than a part, in a step or a note, is cut short on a character boundary")
    func giantLine() throws {
        let path = "/srv/" + String(repeating: "ü`|<x>", count: 20_000)
        let plan = Plan(basis: PlanBasis(specDigest: PlanCase.specDigest, observedFingerprint: "f"), steps: [
            PlanStep(action: .create, resource: ResourceRef(kind: .domain, host: "local", name: String(repeating: "n", count: 70_000)),
                     disruption: .none, reason: "in the spec"),
            PlanStep(action: .create, resource: ResourceRef(kind: .domain, host: "local", name: "vm"),
                     changes: [FieldChange(field: "disks[0]", before: nil, after: path, disruption: .none)], disruption: .none, reason: "in the spec"),
        ], notes: [PlanNote(severity: .warning, message: "volume " + path + " is not managed")])
        let parts = MarkdownRenderer().renderParts(plan, limit: 10_000)
        #expect(parts.allSatisfy { $0.utf8.count <= 10_000 })
        for (i, part) in parts.enumerated() {
            let problems = markdownPartProblems(part, part: i + 1, of: parts.count)
            #expect(problems.isEmpty, "part \(i + 1): \(problems)")
        }
        let code = parts.flatMap(fencedLines)
        #expect(code.filter { $0.hasSuffix(" … (truncated)") }.count == 1)
        #expect(code.contains { $0.hasPrefix("+ create domain nnnn") })
        let notes = parts.flatMap { $0.split(separator: "\n").filter { $0.hasPrefix("- **warning**") } }
        #expect(notes.count == 1)
        #expect(try #require(notes.first).hasSuffix(" … (truncated)"))
    }

    /// The checks every split must pass.
    private func expectValidParts(_ parts: [String], of plan: Plan, limit: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let whole = MarkdownRenderer().render(plan)
        for (i, part) in parts.enumerated() {
            #expect(part.utf8.count <= limit, "part \(i + 1) has \(part.utf8.count) bytes", sourceLocation: sourceLocation)
            let problems = markdownPartProblems(part, part: i + 1, of: parts.count)
            #expect(problems.isEmpty, "part \(i + 1): \(problems.joined(separator: "\n"))", sourceLocation: sourceLocation)
            // The summary and the review statement only in part 1; the commits line in each.
            let lines = part.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.contains { $0.hasPrefix("| action |") } == (i == 0), sourceLocation: sourceLocation)
            #expect(lines.contains { $0.hasPrefix("> [!") } == (i == 0), sourceLocation: sourceLocation)
            #expect(lines[2] == "Base `3c5e8a1f0d2b` → head `9b1d4e7a2c5f`, spec `5e7c0a9d1b3f`", sourceLocation: sourceLocation)
        }
        // Every step line once, in order, and the notes likewise.
        #expect(parts.flatMap(fencedLines) == fencedLines(whole), sourceLocation: sourceLocation)
        let headers = parts.flatMap(fencedLines).filter { !$0.hasPrefix(" ") }
        #expect(headers.count == plan.steps.count, sourceLocation: sourceLocation)
        let noteLines = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("- **") } }
        #expect(parts.flatMap(noteLines) == noteLines(whole), sourceLocation: sourceLocation)
        // A host or the notes that go on from one part to the next say so, and only they.
        let suffix = " (continued)"
        func section(_ heading: Substring) -> Substring { heading.hasSuffix(suffix) ? heading.dropLast(suffix.count) : heading }
        var previous: Substring?
        for part in parts {
            let headings = part.split(separator: "\n").filter { $0.hasPrefix("#### ") }
            if let first = headings.first, let previous {
                #expect(first.hasSuffix(suffix) == (section(first) == previous), "\(first) after \(previous)", sourceLocation: sourceLocation)
            }
            previous = headings.last.map(section)
        }
    }
}

/// The lines inside code fences.
func fencedLines(_ markdown: String) -> [String] {
    var out: [String] = []
    var inFence = false
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("```") { inFence.toggle(); continue }
        if inFence { out.append(String(line)) }
    }
    return out
}
