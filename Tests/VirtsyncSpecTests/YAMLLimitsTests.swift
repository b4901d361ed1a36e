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
        #expect(errors.first?.message.contains("aliases expand to more than 10000 nodes") == true)
        #expect((errors.first?.location.line ?? 0) >= 7, "inside the cloud-init value (an anchor the expansion ran over on), not the document's start")
        #expect(result.desired == nil)
        #expect(elapsed < .seconds(5), "bounded by the budget, not by the expansion: \(elapsed)")
    }

    @Test("the budget is per file: many small bombs in many documents are refused too")
    func manyDocuments() {
        let document = "apiVersion: virtsync/v1\nkind: Settings\nx:\n" + Self.bomb(levels: 5, indent: "  ")
        let (result, elapsed) = Self.load(Array(repeating: document, count: 200).joined(separator: "---\n"))
        #expect(result.diagnostics.errors.contains { $0.message.contains("aliases expand to more than") }, "\(result.diagnostics)")
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

extension YAMLLimitsTests {
    static func vm(_ body: String) -> String {
        "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: web-1\nmemory: 64MiB\n" + body
    }

    @Test("a merge key takes mappings only: a scalar merge is an error at its line, not ignored")
    func scalarMergeKey() {
        let (result, _) = Self.load(Self.vm("<<: 4\nvcpus: 1\n"))
        let errors = result.diagnostics.errors
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.location.line == 5)
        #expect(errors.first?.message == "a merge key takes a mapping or a list of mappings, got the number 4")
        let (listed, _) = Self.load(Self.vm("<<: [{vcpus: 2}, oops]\n"))
        #expect(listed.diagnostics.errors.map(\.message) == ["a merge key takes a mapping or a list of mappings, got 'oops'"])
    }

    @Test("explicit core tags are honoured as YAML defines them: !!str makes a string, !!int a number, !!bool a boolean")
    func honouredTags() {
        // `!!str 2` is the string "2", so an integer field refuses it, as it refuses "2".
        let (stringVCPUs, _) = Self.load(Self.vm("vcpus: !!str 2\n"))
        #expect(stringVCPUs.diagnostics.errors.map(\.message) == ["expected an integer, got the string '2'"], "\(stringVCPUs.diagnostics)")
        #expect(stringVCPUs.diagnostics.errors.first?.location.line == 5)
        // And the reverse: a quoted number tagged !!int is a number.
        let (intVCPUs, _) = Self.load(Self.vm("vcpus: !!int \"2\"\nautostart: !!bool 'true'\nmachine: !!str pc\n"))
        #expect(intVCPUs.diagnostics.errors.isEmpty, "\(intVCPUs.diagnostics)")
        let domain = intVCPUs.desired?.hosts.first?.domains.first
        #expect(domain?.vcpus == 2)
        #expect(domain?.autostart == true)
        // The non-specific tag `!` makes a plain scalar a string too; !!map and !!seq on their own kinds are fine.
        let (nonSpecific, _) = Self.load(Self.vm("vcpus: ! 2\n"))
        #expect(nonSpecific.diagnostics.errors.map(\.message) == ["expected an integer, got the string '2'"])
        let (collections, _) = Self.load(Self.vm("cloudInit: !!map\n  userData: !!map {packages: !!seq [nginx]}\n"))
        #expect(!collections.diagnostics.errors.contains { $0.message.contains("tag") }, "\(collections.diagnostics)")
    }

    @Test("every other explicit tag is refused at its line: !!binary, !!float, !!timestamp, local and verbatim tags, tags on keys")
    func refusedTags() {
        let cases: [(String, Int, String)] = [
            ("cloudInit:\n  userData:\n    blob: !!binary aGVsbG8=\n", 7, "explicit tag !!binary is not supported in a spec"),
            ("machine: !!float 1.5\n", 5, "explicit tag !!float is not supported"),
            ("machine: !!timestamp 2001-12-14\n", 5, "explicit tag !!timestamp is not supported"),
            ("machine: !vault secret/web\n", 5, "explicit tag !vault is not supported"),
            ("machine: !<tag:example.com,2026:x> y\n", 5, "explicit tag tag:example.com,2026:x is not supported"),
            ("vcpus: !!int two\n", 5, "!!int 'two' is not an integer"),
            ("autostart: !!bool maybe\n", 5, "!!bool 'maybe' is not a boolean"),
            ("machine: !!map x\n", 5, "!!map on a scalar"),
            ("cloudInit: !!set {a: null}\n", 5, "explicit tag !!set on a mapping is not supported"),
            ("disks: !!omap []\n", 5, "explicit tag !!omap on a list is not supported"),
            ("!!int 5: x\n", 5, "explicit tag !!int on a key: keys are strings"),
        ]
        for (body, line, message) in cases {
            let (result, _) = Self.load(Self.vm(body))
            let tagErrors = result.diagnostics.errors.filter { $0.message.contains(message) }
            #expect(tagErrors.count == 1, "\(body): \(result.diagnostics)")
            #expect(tagErrors.first?.location.line == line, "\(body)")
            #expect(result.desired == nil)
        }
    }

    @Test("aliases to deep anchors cannot nest a document past 1,000 levels once expanded")
    func expandedDepth() {
        // Each anchor is 600 levels deep and holds the one before: libyaml accepts every line,
        // the expansion nests 1,800 levels.
        func deep(_ name: String, holding inner: String?) -> String {
            "\(name): &\(name) " + String(repeating: "[", count: 600) + (inner.map { "*\($0)" } ?? "x") + String(repeating: "]", count: 600)
        }
        let text = Self.vm("cloudInit:\n  userData:\n    " + deep("a", holding: nil) + "\n    " + deep("b", holding: "a") + "\n    " + deep("c", holding: "b") + "\n")
        let (result, elapsed) = Self.load(text)
        #expect(result.diagnostics.errors.map(\.message) == ["this document nests deeper than 1000 levels once its aliases are expanded"], "\(result.diagnostics)")
        #expect(elapsed < .seconds(5))
    }
}

extension YAMLLimitsTests {
    @Test("an empty hosts list is reported at its own line, not at the start of its document")
    func emptyHostsAtItsLine() {
        let (result, _) = Self.load("""
            apiVersion: virtsync/v1
            kind: Network
            name: lan
            mode: isolated
            hosts: []
            """)
        let errors = result.diagnostics.errors.filter { $0.message.contains("'hosts' must not be empty") }
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.location.line == 5)
    }
}

extension YAMLLimitsTests {
    @Test("a syntax error at the end of a file without a final newline is shown on its last line, not past it (found by the spec fuzzer)")
    func errorAtEndOfFile() {
        let (result, _) = Self.load("apiVersion: virtsync/v1\nkind: VirtualMachine\nname: web\nmemory: 64MiB\nx: [a, b")
        let errors = result.diagnostics.errors
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.location.line == 5)
        #expect(errors.first?.location.column == 9)
    }
}

extension YAMLLimitsTests {
    @Test("a long string aliased many times is refused by the alias text budget, though within the node budget")
    func aliasTextBudget() {
        let long = String(repeating: "x", count: 20_000)
        let uses = Array(repeating: "*s", count: 20).joined(separator: ", ")
        let (result, elapsed) = Self.load(Self.vm("cloudInit:\n  userData:\n    s: &s \(long)\n    many: [\(uses)]\n"))
        #expect(result.diagnostics.errors.map(\.message) == ["this file's aliases expand to more than 256 KiB of text in all: refused before it is read (an alias bomb?)"],
                "\(result.diagnostics)")
        #expect(elapsed < .seconds(5))
    }
}

extension YAMLLimitsTests {
    @Test("lines are counted as libyaml counts them: a lone CR is a line break, so is CR LF, once (found by the spec fuzzer)")
    func carriageReturnLines() {
        let (result, _) = Self.load("apiVersion: virtsync/v1\rkind: VirtualMachine\r\nname: web\rmemory: 64MiB\rx: [a, b")
        let errors = result.diagnostics.errors
        #expect(errors.count == 1, "\(result.diagnostics)")
        #expect(errors.first?.location.line == 5, "the last line, not past it and not line 1")
        #expect(errors.first?.location.column == 9)
    }
}

extension YAMLLimitsTests {
    @Test("a diagnostic about an empty node at the very end of a file without a final line break stays inside the file")
    func emptyNodeAtEnd() {
        let text = Self.vm("disks:\n  -")
        let (result, _) = Self.load(text)
        #expect(result.diagnostics.errors.count >= 1, "\(result.diagnostics)")
        #expect(result.diagnostics.items.allSatisfy { $0.location.line <= 6 }, "\(result.diagnostics)")
    }
}

extension YAMLLimitsTests {
    @Test("duplicate keys next to a duplicated key that is not a string give the same diagnostic every time (found by the spec fuzzer)")
    func duplicateComplexKeysDeterministic() {
        let text = "apiVersion: virtsync/v1\nkind: Settings\ndisks: 1\n? - a\n: 1\ndisks: 2\n? - a\n: 2\n"
        let first = Self.load(text).0.diagnostics.description
        #expect(first == "spec.yaml: error: malformed YAML: duplicate key 'disks' and a key that is not a string in a mapping")
        for _ in 0..<20 { #expect(Self.load(text).0.diagnostics.description == first) }
        let plain = Self.load("apiVersion: virtsync/v1\nkind: Settings\nb: 1\na: 1\nb: 2\na: 2\n").0.diagnostics.description
        #expect(plain == "spec.yaml:4:1: error: malformed YAML: duplicate key 'a', 'b' in a mapping")
    }
}
