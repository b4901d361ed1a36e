import Foundation
import Testing
import VirtsyncCore

/// What a reviewer reads of a plan, as golden files: one folder per case under
/// `Golden/plans/<case>/` with `plan.txt`, `plan.md` and `plan.json`. The inputs are the
/// `PlanCase` values; `VIRTSYNC_RECORD=1` re-records the outputs.
@Suite("golden plans")
struct GoldenPlanTests {
    @Test("each case renders to its golden text, Markdown and JSON", arguments: PlanCase.all)
    func renderings(of planCase: PlanCase) throws {
        let plan = planCase.plan
        let folder = "plans/\(planCase.name)"
        GoldenFile.expect(TextRenderer(color: false).render(plan), matches: "\(folder)/plan.txt")
        GoldenFile.expect(MarkdownRenderer().render(plan), matches: "\(folder)/plan.md")
        GoldenFile.expect(try JSONRenderer().render(plan), matches: "\(folder)/plan.json")
    }

    @Test("coloured text marks actions and note severities with ANSI colours")
    func colour() {
        GoldenFile.expect(TextRenderer(color: true).render(PlanCase.pruning.plan), matches: "plans/pruning/plan.color.txt")
    }

    @Test("coloured text is the plain text with escape sequences added", arguments: PlanCase.all)
    func colourAddsOnlyEscapes(of planCase: PlanCase) {
        let plan = planCase.plan
        #expect(stripANSI(TextRenderer(color: true).render(plan)) == TextRenderer(color: false).render(plan))
    }

    @Test("every case has a golden folder and every golden folder a case")
    func foldersMatchCases() throws {
        guard !GoldenFile.recording else { return }
        let folders = try FileManager.default.contentsOfDirectory(atPath: GoldenFile.root.appendingPathComponent("plans").path)
            .filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(PlanCase.all.map(\.name)))
        #expect(PlanCase.all.count == Set(PlanCase.all.map(\.name)).count, "case names must be unique")
    }

    @Test("the same inputs give the same plan, and equal observed values the same fingerprint", arguments: PlanCase.all)
    func deterministic(_ planCase: PlanCase) throws {
        let first = planCase.plan
        #expect(planCase.plan == first)
        // An equal observed state whose dictionaries were built in another order, and one that
        // went through JSON: neither may move the fingerprint.
        let reordered = reversedInsertion(planCase.observed)
        #expect(reordered == planCase.observed)
        let decoded = try JSONDecoder().decode(ObservedState.self, from: JSONEncoder().encode(planCase.observed))
        for other in [reordered, decoded] {
            let again = planCase.plan(observed: other)
            #expect(again.basis.observedFingerprint == first.basis.observedFingerprint)
            #expect(again == first)
        }
        #expect(first.basis.specDigest == PlanCase.specDigest)
    }

    // MARK: What each case is meant to show, so that a re-recording cannot hide a planner change.

    @Test("empty host: everything is created, dependencies first, nothing disruptive")
    func emptyHost() throws {
        let plan = PlanCase.emptyHost.plan
        #expect(plan.steps.allSatisfy { $0.action == .create || $0.action == .start })
        #expect(plan.steps.allSatisfy { $0.disruption == .none && $0.changes.allSatisfy { $0.before == nil && $0.disruption == .none } })
        #expect(plan.notes.isEmpty)
        let ids = plan.steps.map(\.id)
        #expect(ids.contains("create:volume:local/lab/\(Lab.seed.name)"))
        #expect(ids.contains("start:domain:local/web-1"))
        #expect(!ids.contains("start:domain:local/db-1"))
        let overlay = try #require(ids.firstIndex(of: "create:volume:local/lab/web-1-root.qcow2"))
        let base = try #require(ids.firstIndex(of: "create:volume:local/lab/debian-12.qcow2"))
        #expect(base < overlay)
        let text = TextRenderer().render(plan)
        #expect(!text.contains("(replace)"))
    }

    @Test("no changes: a generated MAC, a machine type and a bridge libvirt chose are not drift")
    func noChanges() {
        let plan = PlanCase.noChanges.plan
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
        #expect(plan.notes.isEmpty)
        #expect(TextRenderer().render(plan).contains("No changes."))
        #expect(MarkdownRenderer().render(plan).contains("**No changes.**"))
    }

    @Test("running VMs: live changes, a pending next-boot change with a note, an update and a restart")
    func liveAndNextBoot() throws {
        let plan = PlanCase.liveAndNextBoot.plan
        let byID = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.id, $0) })
        let web = try #require(byID["update:domain:local/web-1"])
        #expect(web.disruption == .nextBoot)
        #expect(web.changes.first { $0.field == "memory" }?.disruption == .live)
        #expect(web.changes.first { $0.field == "interfaces[0].link" }?.disruption == .live)
        #expect(web.changes.first { $0.field == "machine" }?.disruption == .nextBoot)
        guard case .domain(_, let live, _) = web.payload else { Issue.record("no domain payload"); return }
        #expect(live.contains(.setMemory(.mib(768))))
        #expect(byID["restart:domain:local/web-1"] == nil)
        #expect(plan.notes.contains { $0.severity == .info && $0.resource?.name == "web-1" && $0.message.contains("next boot") })
        #expect(byID["restart:domain:local/db-1"]?.disruption == .restart)
        #expect(byID["restart:domain:local/db-1"]?.dependsOn.contains("update:domain:local/db-1") == true)
        #expect(byID["update:domain:local/db-1"]?.dependsOn.contains("create:volume:local/lab/db-1-data.qcow2") == true)
        #expect(byID["update:domain:local/cache-1"]?.disruption == .live)
    }

    @Test("pruning: the domain goes first, then its network and its volume; unmanaged resources are warned about")
    func pruning() {
        let plan = PlanCase.pruning.plan
        let deletes = plan.steps.filter { $0.action == .delete }
        #expect(deletes.map(\.id) == ["delete:domain:local/old-vm", "delete:network:local/oldnet", "delete:volume:local/lab/old-vm-root.qcow2"])
        #expect(deletes.last?.disruption == .dataLoss)
        #expect(plan.steps.count == deletes.count)
        #expect(plan.notes.filter { $0.severity == .warning }.map(\.resource?.name) == ["lab/web-2-root.qcow2", "storage", "web-2"])
    }

    @Test("an unreachable host gets an error note and no steps; the reachable one is planned")
    func unreachableHost() {
        let plan = PlanCase.unreachableHost.plan
        #expect(!plan.steps.isEmpty)
        #expect(plan.steps.allSatisfy { $0.resource.host == "alpha" })
        #expect(plan.notes.count == 1)
        #expect(plan.notes.first?.severity == .error)
        #expect(plan.notes.first?.message.contains("beta") == true)
    }

    @Test("a grown volume no running domain uses is resized; a shrink and a format change are refused with errors")
    func volumeSizes() {
        let plan = PlanCase.volumeSizes.plan
        #expect(plan.steps.map(\.id) == ["update:volume:local/lab/db-1-data.qcow2"])
        #expect(plan.steps.first?.disruption == Disruption.none)
        #expect(plan.notes.filter { $0.severity == .error }.count == 2)
        #expect(plan.notes.contains { $0.message.contains("shrink") && $0.resource?.name == "lab/db-1-root.qcow2" })
    }

    @Test("power drift: starts, a stop, a resume of a paused VM that should run, a suspend of a running one that should be paused")
    func powerState() {
        let plan = PlanCase.powerState.plan
        #expect(Set(plan.steps.map(\.id)) == ["start:pool:local/lab", "start:network:local/labnet", "start:domain:local/app-1",
                                              "start:domain:local/app-2", "stop:domain:local/batch-1", "resume:domain:local/app-3",
                                              "suspend:domain:local/app-4"])
        #expect(plan.steps.first { $0.action == .suspend }?.disruption == .stop)
        #expect(plan.notes.isEmpty)
    }
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
func stripANSI(_ text: String) -> String {
    var out = ""
    var inEscape = false
    for scalar in text.unicodeScalars {
        if inEscape {
            if scalar == "m" { inEscape = false }
        } else if scalar == "\u{1B}" {
            inEscape = true
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// The same observed state with every dictionary rebuilt by inserting its keys in reverse order.
func reversedInsertion(_ state: ObservedState) -> ObservedState {
    func rebuilt<V>(_ d: [String: V]) -> [String: V] {
        var out: [String: V] = [:]
        for key in d.keys.sorted().reversed() { out[key] = d[key] }
        return out
    }
    var out = ObservedState(unreachable: rebuilt(state.unreachable))
    for (name, host) in rebuilt(state.hosts) {
        var h = host
        h.networks = rebuilt(host.networks)
        h.pools = rebuilt(host.pools)
        h.volumes = rebuilt(host.volumes)
        h.domains = rebuilt(host.domains).mapValues { dom in
            var dom = dom
            if let live = dom.live { dom.live?.linkUp = rebuilt(live.linkUp) }
            return dom
        }
        out.hosts[name] = h
    }
    return out
}
