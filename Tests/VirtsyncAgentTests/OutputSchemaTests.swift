import Foundation
import Testing
import VirtsyncCore
import VirtsyncTestSupport

/// The JSON virtsync writes for programs, checked with real consumers: the published schemas
/// (specs/plan.schema.json, specs/validate.schema.json) with Python's jsonschema, and the policy
/// example (examples/policy) with a Rego engine (rego-cpp's `regopy`), on plans and validate
/// reports the real CLI wrote.
@Suite("JSON output: schemas, typed values, summary, validate --format json, the Rego policy",
       .serialized, .enabled(if: VirtsyncBinary.isBuilt && (try? Command.locate("python3")) != nil))
struct OutputSchemaTests {
    struct SchemaError: Error {}

    static let root = AgentConfigTests.repositoryRoot
    /// Where scripts/install-deps.sh puts the Rego engine.
    static let toolsPython = ProcessInfo.processInfo.environment["VIRTSYNC_TOOLS_PYTHON"] ?? "/opt/virtsync-tools/bin/python3"

    static func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw SchemaError() }
        return object
    }

    static func schema(_ name: String) throws -> [String: Any] {
        try json(String(contentsOf: root.appendingPathComponent("specs/\(name)"), encoding: .utf8))
    }

    /// A real plan: the lab example against libvirt's test driver (it creates everything).
    static func labPlan() async throws -> String {
        let plan = try await VirtsyncBinary.run(["plan", root.appendingPathComponent("examples/lab").path,
                                                 "--connect", "test:///default", "--format", "json"], timeout: .seconds(120))
        try #require(plan.status == 0, "\(plan.stderr)")
        return plan.stdout
    }

    /// A spec with three mistakes in two files.
    static func badSpec(in scratch: ScratchDirectory) throws -> String {
        let directory = try scratch.makeDirectory("bad")
        try """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: web-1
        memory: 12QB
        vcpus: two

        """.write(toFile: directory + "/web.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: virtsync/v1\nkind: VM\n".write(toFile: directory + "/other.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test("the schemas' enums are Swift's: actions, disruption classes, kinds, severities")
    func enumsMatch() throws {
        let plan = try Self.schema("plan.schema.json")
        func enumAt(_ node: [String: Any], _ path: [String]) -> [String]? {
            var current: Any = node
            for key in path { current = (current as? [String: Any])?[key] as Any }
            return (current as? [String: Any])?["enum"] as? [String]
        }
        let step = ["properties", "steps", "items", "properties"]
        #expect(enumAt(plan, step + ["action"]) == StepAction.allCases.map(\.rawValue))
        #expect(enumAt(plan, step + ["disruption"]) == Disruption.allCases.map(\.rawValue))
        #expect(enumAt(plan, step + ["resource", "properties", "kind"]) == ResourceKind.allCases.map(\.rawValue))
        #expect(enumAt(plan, ["properties", "notes", "items", "properties", "severity"]) == ["info", "warning", "error"])
        let summary = ["properties", "summary", "properties"]
        #expect(enumAt(plan, summary + ["max_disruption"]) == Disruption.allCases.map(\.rawValue))
        let report = try Self.schema("validate.schema.json")
        #expect(enumAt(report, ["properties", "diagnostics", "items", "properties", "severity"]) == ["error", "warning"])
        #expect((plan["properties"] as? [String: Any]).flatMap { ($0["format_version"] as? [String: Any])?["const"] as? Int } == Plan.formatVersion)
        #expect((report["properties"] as? [String: Any]).flatMap { ($0["format_version"] as? [String: Any])?["const"] as? Int }
                == ValidationReport.formatVersion)
    }

    @Test("a real plan carries typed values (bytes as integers beside the display string, booleans) and a summary of its steps")
    func typedValuesAndSummary() async throws {
        let plan = try Self.json(try await Self.labPlan())
        let steps = try #require(plan["steps"] as? [[String: Any]])
        let changes = steps.flatMap { ($0["changes"] as? [[String: Any]]) ?? [] }
        let memory = try #require(changes.first { $0["field"] as? String == "memory" })
        #expect(memory["unit"] as? String == "bytes")
        let bytes = try #require(memory["after_value"] as? Int)
        #expect(try ByteSize.parse(try #require(memory["after"] as? String)).bytes == UInt64(bytes), "the integer is the display string's size")
        let autostart = try #require(changes.first { $0["field"] as? String == "autostart" })
        #expect(autostart["after_value"] as? Bool == true && autostart["after"] as? String == "true")
        let vcpus = try #require(changes.first { $0["field"] as? String == "vcpus" })
        #expect(vcpus["after_value"] is Int && vcpus["unit"] == nil)

        let summary = try #require(plan["summary"] as? [String: Any])
        #expect(summary["steps"] as? Int == steps.count)
        let byAction = try #require(summary["by_action"] as? [String: Int])
        #expect(byAction.keys.sorted() == StepAction.allCases.map(\.rawValue).sorted(), "every action, zero included")
        for action in StepAction.allCases {
            #expect(byAction[action.rawValue] == steps.count { $0["action"] as? String == action.rawValue })
        }
        let byDisruption = try #require(summary["by_disruption"] as? [String: Int])
        #expect(byDisruption.values.reduce(0, +) == steps.count)
        #expect(summary["max_disruption"] as? String == "none")
        #expect(summary["has_errors"] as? Bool == false)

        // A saved plan is read back (apply --plan, show) whatever the new keys.
        let scratch = try ScratchDirectory(prefix: "output-schema")
        let saved = scratch.path("plan.json")
        try try await Self.labPlan().write(toFile: saved, atomically: true, encoding: .utf8)
        let shown = try await VirtsyncBinary.run(["show", saved])
        #expect(shown.status == 0 && shown.stdout.contains("Plan: 10 to create, 2 to start."), "\(shown.stdout)\(shown.stderr)")
    }

    @Test("validate --format json: each diagnostic's file, line, column, key path, severity and message on stdout; exit 1 on an error")
    func validateJSON() async throws {
        let scratch = try ScratchDirectory(prefix: "output-schema")
        let bad = try await VirtsyncBinary.run(["validate", try Self.badSpec(in: scratch), "--format", "json"])
        #expect(bad.status == 1)
        let report = try Self.json(bad.stdout)
        #expect(report["valid"] as? Bool == false)
        let diagnostics = try #require(report["diagnostics"] as? [[String: Any]])
        let kind = try #require(diagnostics.first { $0["file"] as? String == "other.yaml" }, "\(bad.stdout)")
        #expect(kind["line"] as? Int == 2 && kind["column"] as? Int == 7 && kind["path"] as? String == "kind" && kind["severity"] as? String == "error")
        #expect((kind["message"] as? String)?.contains("unknown kind 'VM'") == true)
        #expect(diagnostics.contains { $0["file"] as? String == "web.yaml" && $0["path"] as? String == "VirtualMachine[web-1].memory" && $0["line"] as? Int == 4 }, "\(bad.stdout)")
        #expect((report["summary"] as? [String: Int])?["errors"] == diagnostics.count { $0["severity"] as? String == "error" })
        #expect(bad.stderr.contains("error"), "the text summary stays on stderr")

        let good = try await VirtsyncBinary.run(["validate", Self.root.appendingPathComponent("examples/lab").path, "--format", "json"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(try Self.json(good.stdout)["valid"] as? Bool == true)
        let missing = try await VirtsyncBinary.run(["validate", scratch.path("nowhere"), "--format", "json"])
        #expect(missing.status == 1)
        #expect(((try Self.json(missing.stdout)["diagnostics"] as? [[String: Any]])?.first?["message"] as? String)?.contains("does not exist") == true)
    }

    @Test("check_output_schemas.py: the schemas are generated, take the plans and reports the CLI wrote and the golden plans, refuse drift")
    func schemasTakeRealOutput() async throws {
        let python = try Command.locate("python3")
        let probe = try await Command.run(python, ["-c", "import jsonschema"])
        try #require(probe.succeeded, "python3 lacks jsonschema (scripts/install-deps.sh installs python3-jsonschema): \(probe.stderr)")
        let script = Self.root.appendingPathComponent("specs/tools/check_output_schemas.py").path
        let golden = try await Command.run(python, [script])
        #expect(golden.succeeded, "\(golden.stdout)\(golden.stderr)")
        #expect(golden.stdout.contains("14 file(s) conform"), "\(golden.stdout)")

        let scratch = try ScratchDirectory(prefix: "output-schema")
        try try await Self.labPlan().write(toFile: scratch.path("plan.json"), atomically: true, encoding: .utf8)
        let bad = try await VirtsyncBinary.run(["validate", try Self.badSpec(in: scratch), "--format", "json"])
        try bad.stdout.write(toFile: scratch.path("bad.json"), atomically: true, encoding: .utf8)
        let good = try await VirtsyncBinary.run(["validate", Self.root.appendingPathComponent("examples/cluster").path, "--format", "json"])
        try good.stdout.write(toFile: scratch.path("good.json"), atomically: true, encoding: .utf8)
        let real = try await Command.run(python, [script, "--plan", scratch.path("plan.json"), "--report", scratch.path("bad.json"),
                                                  "--report", scratch.path("good.json")])
        #expect(real.succeeded, "\(real.stdout)\(real.stderr)")
        #expect(real.stdout.contains("3 file(s) conform"), "\(real.stdout)")

        // Drift is caught: a plan without its summary, a typed value that is an object, an
        // unknown key in a diagnostic.
        var plan = try Self.json(String(contentsOfFile: scratch.path("plan.json"), encoding: .utf8))
        plan["summary"] = nil
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: scratch.path("nosummary.json")))
        var report = try Self.json(bad.stdout)
        var diagnostics = try #require(report["diagnostics"] as? [[String: Any]])
        diagnostics[0]["hint"] = "x"
        report["diagnostics"] = diagnostics
        try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: scratch.path("extra.json")))
        let drift = try await Command.run(python, [script, "--plan", scratch.path("nosummary.json"), "--report", scratch.path("extra.json")])
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("nosummary.json: (top): 'summary' is a required property"), "\(drift.stdout)")
        #expect(drift.stdout.contains("extra.json: diagnostics/0"), "\(drift.stdout)")
    }

    @Test("examples/policy/virtsync.rego, run by a Rego engine: passes the lab plan and a clean report, fails data loss, a VM deletion, too much memory, plan errors, spec errors and another format")
    func regoPolicy() async throws {
        let engine = Self.toolsPython
        let probe = try await Command.run(engine, ["-c", "import regopy"])
        try #require(probe.succeeded, "\(engine) lacks regopy: run scripts/install-deps.sh (\(probe.stderr))")
        let policy = Self.root.appendingPathComponent("examples/policy/virtsync.rego").path
        let runner = Self.root.appendingPathComponent("scripts/rego-eval.py").path
        let scratch = try ScratchDirectory(prefix: "rego")
        func check(_ document: String, named name: String) async throws -> CommandResult {
            let path = scratch.path(name)
            try document.write(toFile: path, atomically: true, encoding: .utf8)
            return try await Command.run(engine, [runner, policy, path])
        }
        func data(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let lab = try await Self.labPlan()
        let clean = try await check(lab, named: "lab.json")
        #expect(clean.status == 0 && clean.stdout.contains("0 failure(s), 0 warning(s)"), "\(clean.stdout)\(clean.stderr)")

        let golden = Self.root.appendingPathComponent("Tests/VirtsyncCoreTests/Golden/plans")
        let pruning = try await check(String(contentsOf: golden.appendingPathComponent("pruning/plan.json"), encoding: .utf8), named: "pruning.json")
        #expect(pruning.status == 1)
        #expect(pruning.stdout.contains("lab/old-vm-root.qcow2 would lose data"), "\(pruning.stdout)")
        #expect(pruning.stdout.contains("delete:domain:local/old-vm: deleting a VM needs a separate, reviewed change"), "\(pruning.stdout)")
        #expect(pruning.stdout.contains("WARN") && pruning.stdout.contains("restart or stop a running VM"), "\(pruning.stdout)")
        let errors = try await check(String(contentsOf: golden.appendingPathComponent("volume-sizes/plan.json"), encoding: .utf8), named: "errors.json")
        #expect(errors.status == 1 && errors.stdout.contains("the plan has 2 error note(s)"), "\(errors.stdout)")

        // The memory rule reads the typed value: 128 GiB for the lab's db-1.
        var big = try Self.json(lab)
        var steps = try #require(big["steps"] as? [[String: Any]])
        let index = try #require(steps.firstIndex { $0["id"] as? String == "create:domain:local/db-1" })
        var changes = try #require(steps[index]["changes"] as? [[String: Any]])
        let field = try #require(changes.firstIndex { $0["field"] as? String == "memory" })
        changes[field]["after_value"] = 128 << 30
        changes[field]["after"] = "128GiB"
        steps[index]["changes"] = changes
        big["steps"] = steps
        let memory = try await check(try data(big), named: "memory.json")
        #expect(memory.status == 1 && memory.stdout.contains("create:domain:local/db-1: memory 128GiB is above the 64 GiB limit"), "\(memory.stdout)")
        big["format_version"] = 2
        let future = try await check(try data(big), named: "future.json")
        #expect(future.status == 1 && future.stdout.contains("format_version 2: this policy reads format_version 1"), "\(future.stdout)")

        let bad = try await VirtsyncBinary.run(["validate", try Self.badSpec(in: scratch), "--format", "json"])
        let spec = try await check(bad.stdout, named: "report.json")
        #expect(spec.status == 1 && spec.stdout.contains("other.yaml:2:7: kind: unknown kind 'VM'"), "\(spec.stdout)")
        let good = try await VirtsyncBinary.run(["validate", Self.root.appendingPathComponent("examples/lab").path, "--format", "json"])
        let fine = try await check(good.stdout, named: "good.json")
        #expect(fine.status == 0 && fine.stdout.contains("0 failure(s)"), "\(fine.stdout)")
    }
}
