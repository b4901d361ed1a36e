import Foundation
import Testing
import VirtsyncCore
import VirtsyncSpec
import VirtsyncTestSupport

/// `specs/spec-v1.md` is the contract: its `yaml` examples, together, must be a valid spec.
@Suite("spec documentation")
struct SpecDocumentationTests {
    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("specs/spec-v1.md")

    /// The contents of every fenced block opened with ```` ```yaml ````.
    static func yamlBlocks(in text: String) -> [String] { MarkdownBlocks.yaml(in: text) }

    @Test("the examples of spec-v1.md load together without any diagnostic")
    func examplesLoad() throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let blocks = Self.yamlBlocks(in: text)
        #expect(blocks.count >= 8)
        let files = blocks.enumerated().map { index, block in
            SpecFile(path: "example-\(index < 9 ? "0" : "")\(index + 1).yaml", bytes: Array(block.utf8))
        }
        let result = SpecLoader.load(files: files)
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        let desired = try #require(result.desired).placed()
        #expect(desired.hosts.map(\.name) == ["host-a", "host-b"])
        #expect(desired.host(named: "host-a")?.domains.map(\.name) == ["web-1"])
    }
}
