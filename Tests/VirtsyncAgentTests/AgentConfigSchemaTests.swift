import Foundation
import Testing
import VirtsyncAgent
import VirtsyncTestSupport

/// specs/agent-config.schema.json against the loader: the same keys, and the check script green.
@Suite("agent configuration schema")
struct AgentConfigSchemaTests {
    struct SchemaError: Error {}

    static let root = AgentConfigTests.repositoryRoot

    /// Every key path of the schema (`source.repo`, `reconcile.backoff.max`, ...), depth first.
    static func schemaKeyPaths() throws -> [String] {
        let data = try Data(contentsOf: root.appendingPathComponent("specs/agent-config.schema.json"))
        guard let schema = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SchemaError() }
        var paths: [String] = []
        func walk(_ node: [String: Any], _ prefix: String) {
            guard let properties = node["properties"] as? [String: Any] else { return }
            for (key, child) in properties {
                let path = prefix.isEmpty ? key : prefix + "." + key
                paths.append(path)
                if let child = child as? [String: Any] { walk(child, path) }
            }
        }
        walk(schema, "")
        return paths
    }

    @Test("the schema has exactly the keys the loader accepts (66), so the two cannot drift apart")
    func sameKeys() throws {
        let schema = Set(try Self.schemaKeyPaths())
        let loader = Set(AgentConfigLoader.keyPaths)
        #expect(loader.count == 66)
        #expect(loader.subtracting(schema).sorted() == [], "accepted by the loader, missing from the schema")
        #expect(schema.subtracting(loader).sorted() == [], "in the schema, unknown to the loader")
    }

    @Test("every object of the schema refuses unknown keys, as the loader does")
    func closedObjects() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("specs/agent-config.schema.json"))
        guard let schema = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SchemaError() }
        func check(_ node: [String: Any], _ path: String) {
            guard let properties = node["properties"] as? [String: Any] else { return }
            #expect(node["additionalProperties"] as? Bool == false, "\(path.isEmpty ? "(root)" : path) allows unknown keys")
            for (key, child) in properties {
                if let child = child as? [String: Any] { check(child, path.isEmpty ? key : path + "." + key) }
            }
        }
        check(schema, "")
    }

    @Test("check_agent_schema.py: the schema is what the generator writes, takes the examples and refuses the bad files",
          .enabled(if: (try? Command.locate("python3")) != nil))
    func checkScript() async throws {
        let script = Self.root.appendingPathComponent("specs/tools/check_agent_schema.py").path
        let probe = try await Command.run(try Command.locate("python3"), ["-c", "import jsonschema, yaml"])
        try #require(probe.succeeded, "python3 lacks jsonschema or PyYAML: \(probe.stderr)")
        let result = try await Command.run(try Command.locate("python3"), [script])
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("refuses 25 bad ones"))
    }
}
