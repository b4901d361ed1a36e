import Foundation
import Testing
import VirtsyncCore

/// The saved-plan format that `apply --plan` and review bots read.
@Suite("plan JSON")
struct PlanJSONTests {
    @Test("every golden plan decodes back to the same value", arguments: PlanCase.all)
    func roundTrip(of planCase: PlanCase) throws {
        let plan = planCase.plan
        let decoded = try JSONRenderer.decode(Array(try JSONRenderer().render(plan).utf8))
        #expect(decoded == plan)
    }

    @Test("a domain payload round-trips: extraXML is written as extra_xml and read back")
    func domainPayloadRoundTrip() throws {
        let vm = DomainModel(name: "vm", memory: .mib(64), extraXML: ExtraXML(devices: "<watchdog model='i6300esb'/>"))
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: PlanCase.specDigest)
        let plan = Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
        let text = try JSONRenderer().render(plan)
        #expect(text.contains("\"extra_xml\""))
        let decoded = try JSONRenderer.decode(Array(text.utf8))
        #expect(decoded == plan)
    }

    @Test("a seed's content is never in the JSON (it may hold secrets): the plan read back names it by digest and equals the fresh one")
    func seedContentLeftOut() throws {
        let plan = PlanCase.emptyHost.plan
        let text = try JSONRenderer().render(plan)
        #expect(!text.contains("\"content\" :"))
        #expect(!text.contains(Data(Lab.seedContent).base64EncodedString()))
        let decoded = try JSONRenderer.decode(Array(text.utf8))
        #expect(decoded == plan)
        let step = try #require(decoded.steps.first { $0.id == "create:volume:local/lab/\(Lab.seed.name)" })
        guard case .volume(let volume) = step.payload else { Issue.record("no volume payload"); return }
        #expect(volume.content == nil)
        #expect(volume.source == .generated(digest: Lab.seedDigest))
    }

    @Test("format_version is a top-level key with value 1")
    func formatVersion() throws {
        let text = try JSONRenderer().render(PlanCase.emptyHost.plan)
        #expect(text.contains("\"format_version\" : 1"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["format_version"] as? Int == 1)
        #expect(Plan.formatVersion == 1)
    }

    @Test("a plan with another format_version is refused", arguments: [0, 2, 99])
    func otherVersionRefused(_ version: Int) throws {
        let text = try JSONRenderer().render(PlanCase.volumeSizes.plan)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        object["format_version"] = version
        let bytes = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: PlanRefusal.self) { try JSONRenderer.decode(Array(bytes)) }
    }

    @Test("a plan of a future format is refused by its version even when its shape changed")
    func futureShapeRefused() {
        let future = #"{"format_version": 2, "plan": {"hosts": []}}"#
        #expect(throws: PlanRefusal.self) { try JSONRenderer.decode(Array(future.utf8)) }
    }

    @Test("keys are snake_case: depends_on, observed_fingerprint, format_version", arguments: PlanCase.all)
    func snakeCase(of planCase: PlanCase) throws {
        let text = try JSONRenderer().render(planCase.plan)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let keys = allKeys(object, skipping: ["options"])
        #expect(keys.isSuperset(of: ["format_version", "observed_fingerprint", "spec_digest", "steps", "notes", "basis"]))
        if !planCase.plan.steps.isEmpty { #expect(keys.contains("depends_on")) }
        let camel = keys.filter { $0.contains { $0.isUppercase } }
        #expect(camel.isEmpty, "camelCase keys: \(camel.sorted())")
    }

    @Test("the options recorded in the basis keep their names in a saved plan")
    func recordedOptionNames() throws {
        let plan = PlanCase.volumeSizes.plan
        #expect(plan.basis.options["allow_mass_delete"] == "false")
        let decoded = try JSONRenderer.decode(Array(try JSONRenderer().render(plan).utf8))
        #expect(decoded.basis.options == plan.basis.options)
        #expect(decoded.basis.options["allow_mass_delete"] == "false", "apply --plan reads this key back")
    }
}

/// Every object key in a JSON value, not descending into the objects under `skipping` keys
/// (user data, such as the recorded options).
func allKeys(_ value: Any, skipping: Set<String> = []) -> Set<String> {
    var out = Set<String>()
    if let object = value as? [String: Any] {
        for (key, child) in object {
            out.insert(key)
            if !skipping.contains(key) { out.formUnion(allKeys(child, skipping: skipping)) }
        }
    } else if let array = value as? [Any] {
        for child in array { out.formUnion(allKeys(child, skipping: skipping)) }
    }
    return out
}
