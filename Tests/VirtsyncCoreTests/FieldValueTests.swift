import Foundation
import Testing
@testable import VirtsyncCore

@Suite("typed values of a plan's changes")
struct FieldValueTests {
    @Test("display strings are read as booleans and plain integers only; anything else stays a string",
          arguments: [
            ("true", FieldValue.boolean(true)), ("false", .boolean(false)), ("2", .integer(2)), ("0", .integer(0)),
            ("-3", .integer(-3)), ("007", .string("007")), ("1.5", .string("1.5")), ("+4", .string("+4")),
            ("True", .string("True")), ("", .string("")), ("4 GiB", .string("4 GiB")), ("99999999999999999999", .string("99999999999999999999")),
            ("00:11:22:33:44:55", .string("00:11:22:33:44:55")),
          ] as [(String, FieldValue)])
    func reading(_ text: String, expected: FieldValue) {
        #expect(FieldValue.reading(text) == expected)
    }

    @Test("a size is typed as its bytes with unit bytes, beside the display string")
    func sizes() throws {
        let change = FieldChange(field: "memory", before: ByteSize.mib(512), after: .gib(2), disruption: .nextBoot)
        #expect(change.before == "512MiB" && change.after == "2GiB")
        #expect(change.beforeValue == .integer(512 << 20) && change.afterValue == .integer(2 << 30) && change.unit == .bytes)
        let plain = FieldChange(field: "vcpus", before: "1", after: "2", disruption: .live)
        #expect(plain.unit == nil && plain.afterValue == .integer(2))
    }

    @Test("a plan saved before the typed values existed still loads, its values read from the display strings")
    func oldPlansLoad() throws {
        let old = #"{"field":"autostart","before":"false","after":"true","disruption":"none"}"#
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let change = try decoder.decode(FieldChange.self, from: Data(old.utf8))
        #expect(change.beforeValue == .boolean(false) && change.afterValue == .boolean(true) && change.unit == nil)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let again = try decoder.decode(FieldChange.self, from: encoder.encode(FieldChange(field: "size", before: nil, after: ByteSize.gib(1), disruption: .none)))
        #expect(again.afterValue == .integer(1 << 30) && again.unit == .bytes && again.before == nil && again.beforeValue == nil)
    }

    @Test("the summary counts every action and disruption class, zero included, and flags error notes")
    func summary() {
        let ref = ResourceRef(kind: .domain, host: "h", name: "a")
        let plan = Plan(basis: PlanBasis(specDigest: "d", observedFingerprint: "f"),
                        steps: [PlanStep(action: .create, resource: ref, disruption: .none, reason: ""),
                                PlanStep(action: .restart, resource: ResourceRef(kind: .domain, host: "h", name: "b"), disruption: .restart, reason: "")],
                        notes: [PlanNote(severity: .error, message: "host g is unreachable"), PlanNote(severity: .info, message: "i")])
        let summary = plan.summary
        #expect(summary.steps == 2 && summary.byAction.count == StepAction.allCases.count && summary.byAction["create"] == 1 && summary.byAction["delete"] == 0)
        #expect(summary.byDisruption["restart"] == 1 && summary.byDisruption["data-loss"] == 0 && summary.maxDisruption == .restart)
        #expect(summary.notes == ["info": 1, "warning": 0, "error": 1] && summary.hasErrors)
        #expect(summary.line == "Plan: 1 to create, 1 to restart. Disruption: 1 restart. 1 error (see Notes).")
        #expect(Plan(basis: plan.basis, steps: []).summary.maxDisruption == nil)
    }
}
