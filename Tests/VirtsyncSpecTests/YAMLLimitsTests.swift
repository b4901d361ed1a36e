import Foundation
import Testing
import VirtsyncCore
import VirtsyncSpec

/// The limits of the one path spec YAML is read through: hostile input is refused with a
/// file:line error in bounded time, wherever in a document it sits.
@Suite("YAML limits")
struct YAMLLimitsTests {
    static func load(_ text: String) -> (SpecLoadResult, Duration) {
        let clock = ContinuousClock()
        var result: SpecLoadResult?
        let elapsed = clock.measure { result = SpecLoader.load(files: [SpecFile(path: "spec.yaml", bytes: Array(text.utf8))]) }
        return (result!, elapsed)
    }

    /// Ten anchors, each a list of ten uses of the one before: 10^levels nodes from a few hundred bytes.
    static func bomb(levels: Int, indent: String) -> String {
        var lines = ["\(indent)a0: &a0 [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]"]
        for level in 1..<levels {
            let uses = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",")
            lines.append("\(indent)a\(level): &a\(level) [\(uses)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("an alias bomb under a cloud-init value is refused at its line within seconds, and nothing of the file is read")
    func aliasBombInCloudInit() {
        let text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: bomb
            memory: 64MiB
            cloudInit:
              userData:

            """ + Self.bomb(levels: 9, indent: "    ")
        let (result, elapsed) = Self.load(text)
        let errors = result.diagnostics.errors
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.message.contains("expands to more than 1000000 nodes") == true)
        #expect((errors.first?.location.line ?? 0) >= 7, "inside the cloud-init value (an anchor the expansion ran over on), not the document's start")
        #expect(result.desired == nil)
        #expect(elapsed < .seconds(5), "bounded by the budget, not by the expansion: \(elapsed)")
    }

    @Test("the budget is per file: many small bombs in many documents are refused too")
    func manyDocuments() {
        let document = "apiVersion: virtsync/v1\nkind: Settings\nx:\n" + Self.bomb(levels: 5, indent: "  ")
        let (result, elapsed) = Self.load(Array(repeating: document, count: 200).joined(separator: "---\n"))
        #expect(result.diagnostics.errors.contains { $0.message.contains("expands to more than") }, "\(result.diagnostics)")
        #expect(elapsed < .seconds(5))
    }

    @Test("ordinary anchors and aliases within a document still load")
    func ordinaryAliases() {
        let text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: web-1
            memory: 512MiB
            cloudInit:
              pool: vms
              userData:
                users: &users [{name: ops}]
                also: *users
            ---
            apiVersion: virtsync/v1
            kind: StoragePool
            name: vms
            path: /var/lib/vms
            """
        let (result, _) = Self.load(text)
        #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics)")
        #expect(result.desired != nil)
    }
}

extension YAMLLimitsTests {
    @Test("an alias to an anchor of an earlier document is an error: anchors belong to their document")
    func anchorsPerDocument() {
        let text = """
            apiVersion: virtsync/v1
            kind: Network
            name: lab
            mode: &mode isolated
            ---
            apiVersion: virtsync/v1
            kind: Network
            name: lan
            mode: *mode
            """
        let (result, _) = Self.load(text)
        let errors = result.diagnostics.errors
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.location.line == 6, "at the start of the document that uses it")
        #expect(errors.first?.message == "an alias in this document refers to the anchor at line 4 of an earlier document: anchors belong to the document that defines them")
    }
}
