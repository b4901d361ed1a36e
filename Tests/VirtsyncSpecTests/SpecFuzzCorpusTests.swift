import Foundation
import SpecFuzzChecks
import Testing

/// The spec fuzz target's checks (Fuzz/Spec) on every file of its corpus: the seeds and each
/// input the fuzzer once failed on (`regression-*`), so a fixed finding stays fixed.
@Suite("spec fuzz corpus")
struct SpecFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Spec/corpus")

    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).sorted()
    }

    @Test("the corpus holds seeds and at least one regression input")
    func corpusPresent() {
        #expect(Self.files().contains { $0.hasPrefix("seed-") })
        #expect(Self.files().contains { $0.hasPrefix("regression-") })
    }

    @Test("every corpus file passes the fuzz target's checks (a failure traps, as under libFuzzer)", arguments: files())
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
        checkSpec(Array(data))
    }
}
