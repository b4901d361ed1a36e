import Foundation
import Testing
import VirtsyncGolden
import VirtsyncCore
import VirtsyncSpec

/// One folder per broken spec under `Fixtures/diagnostics/<case>/`: `spec/` is the input and
/// `expected.txt` the diagnostics, one per line. `VIRTSYNC_RECORD=1` re-records them.
@Suite("golden diagnostics")
struct GoldenDiagnosticsTests {
    @Test("each broken spec reports exactly its expected diagnostics", arguments: Fixtures.diagnosticCases())
    func diagnostics(of name: String) throws {
        let folder = Fixtures.root.appendingPathComponent("diagnostics").appendingPathComponent(name)
        let (result, diagnostics) = Fixtures.load(folder.appendingPathComponent("spec"))
        let actual = diagnostics.description + "\n"
        Golden.expect(actual, matches: folder.appendingPathComponent("expected.txt"), name: "Fixtures/diagnostics/\(name)/expected.txt")
        #expect(diagnostics.hasErrors)
        #expect(result.desired == nil)
    }

    @Test("there is a golden case for every required kind of problem")
    func coverage() {
        let cases = Set(Fixtures.diagnosticCases())
        for required in ["malformed-yaml", "unknown-key", "wrong-type", "bad-unit", "bare-number", "duplicate-names",
                         "dangling-refs", "duplicate-mac-uuid", "unsafe-names", "capacity-exceeded", "empty-spec"] {
            #expect(cases.contains(required), "missing golden case \(required)")
        }
    }
}
