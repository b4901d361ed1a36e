import Foundation
import VirtsyncTestSupport
import Yams

/// The files of `examples/ci/` and the `virtsync` binary the tests run them with.
enum CIExamples {
    /// `examples/ci/` of this checkout (found from this source file's path).
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() } // CI, VirtsyncGitTests, Tests, the package
        return url.appendingPathComponent("examples/ci")
    }()

    /// The file `name` of `examples/ci/`.
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The text of `examples/ci/<name>`.
    static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }

    /// The folder holding the `virtsync` executable: the folder of `VIRTSYNC_BIN` when set, else
    /// the build folder that holds the test bundle (`swift build --build-tests` builds both).
    static var binDirectory: String {
        if let explicit = ProcessInfo.processInfo.environment["VIRTSYNC_BIN"] {
            return (explicit as NSString).deletingLastPathComponent
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        return directory.path
    }

    /// Whether `virtsync` is built in `binDirectory`.
    static var isVirtsyncBuilt: Bool {
        FileManager.default.isExecutableFile(atPath: binDirectory + "/virtsync")
    }

    /// Whether the tools the scripts need are installed: bash, git, jq and curl (and python3 for
    /// the fake forge).
    static var missingTools: [String] {
        ["bash", "git", "jq", "curl", "python3"].filter { (try? Command.locate($0)) == nil }
    }

    /// Runs the shell text `script` as a CI runner runs a step: `bash --noprofile --norc -eo pipefail`,
    /// in `directory`, with exactly `environment` (PATH first gets the folder of `virtsync`).
    static func runStep(_ script: String, in directory: String, environment: [String: String]) async throws -> CommandResult {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-ci-step-\(UUID().uuidString).sh")
        try Data(script.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var environment = environment
        environment["PATH"] = binDirectory + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        return try await Command.run("bash", ["--noprofile", "--norc", "-eo", "pipefail", file.path], in: directory,
                                     environment: environment)
    }
}

/// Reading a node tree of Yams by the scalars' text, never resolved (to booleans, numbers), so
/// that GitHub's `on:` stays the key "on" and `GIT_DEPTH: "0"` the text "0".
extension Node {
    /// The value at the key whose text is `key`, in a mapping; nil otherwise.
    func value(_ key: String) -> Node? {
        mapping?.first { $0.key.text == key }?.value
    }

    /// The scalar's text, or nil for a mapping or sequence.
    var text: String? { scalar?.string }

    /// The elements of a sequence (none for anything else).
    var elements: [Node] { sequence.map { Array($0) } ?? [] }

    /// A mapping of scalars as a dictionary of texts (non-scalar values left out).
    var texts: [String: String] {
        var result: [String: String] = [:]
        for pair in mapping.map({ Array($0) }) ?? [] {
            if let key = pair.key.text, let value = pair.value.text { result[key] = value }
        }
        return result
    }
}

/// `examples/ci/github-actions.yml`: its job `plan` and the steps of that job.
struct CIGitHubWorkflow {
    /// One step of the job.
    struct Step {
        let node: Node
        var id: String? { node.value("id")?.text }
        var uses: String? { node.value("uses")?.text }
        var run: String? { node.value("run")?.text }
        var condition: String? { node.value("if")?.text }
        var with: [String: String] { node.value("with")?.texts ?? [:] }
        var env: [String: String] { node.value("env")?.texts ?? [:] }
    }

    /// The whole file.
    let root: Node
    /// `jobs.plan`.
    let job: Node

    /// Parses the file with Yams.
    init() throws {
        guard let root = try Yams.compose(yaml: CIExamples.text("github-actions.yml")),
              let job = root.value("jobs")?.value("plan") else {
            throw FixtureError(command: ["github-actions.yml"], stderr: "no jobs.plan")
        }
        (self.root, self.job) = (root, job)
    }

    /// The job's steps, in order.
    var steps: [Step] { (job.value("steps")?.elements ?? []).map(Step.init) }

    /// The step with `id`.
    func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    /// Replaces every `${{ expression }}` of `text` by `values[expression]`; throws for one
    /// `values` does not know, so that a workflow needing more context than the test gives fails.
    static func substitute(_ text: String, _ values: [String: String]) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let value = values[expression] else {
                throw FixtureError(command: ["${{ \(expression) }}"], stderr: "an expression the test does not provide")
            }
            result += rest[..<open.lowerBound] + value
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// The environment of `step` as the runner gives it: `base` (the runner's own variables), then
    /// the job's `env`, then the step's, with expressions replaced from `context`.
    func environment(of step: Step, base: [String: String], context: [String: String]) throws -> [String: String] {
        var environment = base
        for (key, value) in (job.value("env")?.texts ?? [:]).merging(step.env, uniquingKeysWith: { $1 }) {
            environment[key] = try Self.substitute(value, context)
        }
        return environment
    }
}

/// `examples/ci/gitlab-ci.yml`: its job `virtsync-plan`.
struct CIGitLabJob {
    /// The job.
    let job: Node

    /// Parses the file with Yams.
    init() throws {
        guard let root = try Yams.compose(yaml: CIExamples.text("gitlab-ci.yml")), let job = root.value("virtsync-plan") else {
            throw FixtureError(command: ["gitlab-ci.yml"], stderr: "no job virtsync-plan")
        }
        self.job = job
    }

    /// `script:` as one shell text (GitLab runs the lines in one shell, in order).
    var script: String {
        (job.value("script")?.elements ?? []).compactMap(\.text).joined(separator: "\n") + "\n"
    }

    /// `before_script:`, the replaceable install block.
    var beforeScript: [String] { (job.value("before_script")?.elements ?? []).compactMap(\.text) }

    /// `variables:`.
    var variables: [String: String] { job.value("variables")?.texts ?? [:] }

    /// The `if:` of every rule.
    var ruleConditions: [String] { (job.value("rules")?.elements ?? []).compactMap { $0.value("if")?.text } }
}
