import Foundation
import Testing
import VirtsyncTestSupport

/// `show` and `diff`, and `apply --plan` going to the host the plan read, on libvirt's test
/// driver (each run of virtsync starts from its default state).
@Suite("CLI: show, diff and saved plans", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"))
struct SavedPlanCLITests {
    /// A spec directory with one isolated network, and a state directory.
    static func scratch() throws -> (spec: String, state: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/spec", withIntermediateDirectories: true)
        try """
            apiVersion: virtsync/v1
            kind: Network
            name: cli-net
            mode: isolated
            autostart: false
            """.write(toFile: root + "/spec/net.yaml", atomically: true, encoding: .utf8)
        return (root + "/spec", root + "/state")
    }

    @Test("show renders a saved plan in every format, with --detailed-exitcode; a missing or foreign file is an error naming it")
    func show() async throws {
        let (spec, state) = try Self.scratch()
        let planFile = state + "-plan.json"
        let made = try await VirtsyncBinary.run(["plan", spec, "--connect", "test:///default", "--state-dir", state, "--out", planFile, "--no-color"])
        #expect(made.status == 0, "\(made.stderr)")
        let text = try await VirtsyncBinary.run(["show", planFile, "--no-color"])
        #expect(text.status == 0 && text.stdout == made.stdout, "\(text.stdout)\n---\n\(made.stdout)\n\(text.stderr)")
        let markdown = try await VirtsyncBinary.run(["show", planFile, "--format", "markdown"])
        #expect(markdown.status == 0 && markdown.stdout.contains("cli-net") && markdown.stdout.contains("|"), "\(markdown.stdout)")
        let json = try await VirtsyncBinary.run(["show", planFile, "--format", "json"])
        let saved = try String(contentsOfFile: planFile, encoding: .utf8)
        #expect(json.status == 0 && json.stdout == saved, "\(json.stdout)")
        let detailed = try await VirtsyncBinary.run(["show", planFile, "--detailed-exitcode"])
        #expect(detailed.status == 2)

        let missing = try await VirtsyncBinary.run(["show", state + "-nothing.json"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read \(state)-nothing.json: no such file"), "\(missing.stderr)")
        try "{\"steps\": []}".write(toFile: state + "-foreign.json", atomically: true, encoding: .utf8)
        let foreign = try await VirtsyncBinary.run(["show", state + "-foreign.json"])
        #expect(foreign.status == 1 && foreign.stderr.contains("-foreign.json: plan file has format_version (none)"), "\(foreign.stderr)")
    }

    @Test("diff narrows the plan to one resource: 2 when it differs, 0 when it matches or is not the spec's (said so), 1 for an unknown one")
    func diff() async throws {
        let (spec, state) = try Self.scratch()
        let options = ["--connect", "test:///default", "--state-dir", state, "--no-color"]
        let differs = try await VirtsyncBinary.run(["diff", spec, "network/cli-net"] + options)
        #expect(differs.status == 2 && differs.stdout.contains("create network cli-net") && differs.stdout.contains("mode: isolated"),
                "\(differs.stdout)\(differs.stderr)")
        // The test driver's own network: on the host, not in the spec.
        let unmanaged = try await VirtsyncBinary.run(["diff", spec, "network/default"] + options)
        #expect(unmanaged.status == 0 && unmanaged.stdout.contains("not in the spec: virtsync leaves it alone"), "\(unmanaged.stdout)\(unmanaged.stderr)")
        let unknown = try await VirtsyncBinary.run(["diff", spec, "vm/nothing"] + options)
        #expect(unknown.status == 1 && unknown.stderr.contains("no vm/nothing in the spec or on its hosts"), "\(unknown.stderr)")
        let malformed = try await VirtsyncBinary.run(["diff", spec, "cli-net"] + options)
        #expect(malformed.status == 1 && malformed.stderr.contains("is not KIND/NAME"), "\(malformed.stderr)")
        let json = try await VirtsyncBinary.run(["diff", spec, "network/cli-net", "--format", "json"] + options)
        #expect(json.status == 2 && json.stdout.contains("\"steps\""), "\(json.stdout)")
    }

    @Test("apply --plan goes to the host the plan read without --connect, and refuses another by name before connecting")
    func planHosts() async throws {
        let (spec, state) = try Self.scratch()
        let planFile = state + "-plan.json"
        let made = try await VirtsyncBinary.run(["plan", spec, "--connect", "test:///default", "--state-dir", state, "--out", planFile])
        #expect(made.status == 0, "\(made.stderr)")
        let elsewhere = try await VirtsyncBinary.run(["apply", "--plan", planFile, "--state-dir", state, "--connect", "test:///nowhere",
                                                      "--auto-approve"])
        #expect(elsewhere.status == 1, "\(elsewhere.stdout)\(elsewhere.stderr)")
        #expect(elsewhere.stderr.contains("the plan was made for host local at test:///default, but this apply would reach it at test:///nowhere"),
                "\(elsewhere.stderr)")
        #expect(!elsewhere.stderr.contains("failed to load external entity"), "refused before connecting: \(elsewhere.stderr)")
        let applied = try await VirtsyncBinary.run(["apply", "--plan", planFile, "--state-dir", state, "--auto-approve", "--no-color"])
        #expect(applied.status == 0 && applied.stdout.contains("Apply: 1 succeeded"), "\(applied.stdout)\(applied.stderr)")
    }
}
