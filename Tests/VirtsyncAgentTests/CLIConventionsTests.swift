import Foundation
import Testing
import VirtsyncTestSupport

/// The habits operators bring to a command-line tool, checked on the built `virtsync`: help,
/// version and completion scripts on stdout with exit 0, usage errors on stderr with exit 1,
/// examples in every subcommand's help, and each default said once.
@Suite("CLI conventions: help, version, usage errors, completions", .enabled(if: VirtsyncBinary.isBuilt))
struct CLIConventionsTests {
    /// The subcommands, read from the command tree itself (`--experimental-dump-help`), so a
    /// new subcommand is checked without being listed here.
    static func subcommands() async throws -> [String] {
        let dump = try await VirtsyncBinary.run(["--experimental-dump-help"], timeout: .seconds(60))
        #expect(dump.status == 0, "\(dump.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        let command = json?["command"] as? [String: Any]
        let names = (command?["subcommands"] as? [[String: Any]] ?? []).compactMap { $0["commandName"] as? String }
        return names.filter { $0 != "help" }
    }

    @Test("--help, help CMD, every CMD --help and --version print to stdout and exit 0")
    func helpAndVersionOnStdout() async throws {
        let subcommands = try await Self.subcommands()
        #expect(subcommands.contains("plan") && subcommands.contains("apply") && subcommands.count >= 7, "\(subcommands)")
        var runs = [["--help"], ["-h"], ["help"], ["help", "plan"], ["--version"]]
        runs += subcommands.map { [$0, "--help"] }
        for arguments in runs {
            let result = try await VirtsyncBinary.run(arguments, timeout: .seconds(60))
            #expect(result.status == 0, "virtsync \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(!result.stdout.isEmpty, "virtsync \(arguments.joined(separator: " ")) printed nothing on stdout")
            #expect(result.stderr.isEmpty, "virtsync \(arguments.joined(separator: " ")) wrote to stderr: \(result.stderr)")
        }
        let help = try await VirtsyncBinary.run(["help", "plan"])
        #expect(help.stdout.contains("USAGE: virtsync plan"))
        let version = try await VirtsyncBinary.run(["--version"])
        #expect(version.stdout.split(separator: "\n").count == 1)
    }

    @Test("a usage error goes to stderr with exit 1 and nothing on stdout")
    func usageErrorOnStderr() async throws {
        let cases: [(arguments: [String], says: [String])] = [
            (["plan", "--no-such-flag", "."], ["--no-such-flag"]),
            (["frobnicate"], ["frobnicate"]),
            (["validate"], ["give the spec directory, or --repo URL"]),
            (["plan", ".", "--log-level", "loud"], ["loud", "trace", "debug", "info", "notice", "warning", "error", "critical"]),
            (["apply", ".", "--color", "sometimes"], ["sometimes", "auto", "always", "never"]),
            (["plan", ".", "--color", "always", "--no-color"], ["--no-color"]),
        ]
        for (arguments, says) in cases {
            let result = try await VirtsyncBinary.run(arguments, timeout: .seconds(60))
            let line = "virtsync \(arguments.joined(separator: " "))"
            #expect(result.status == 1, "\(line): exit \(result.status)")
            #expect(result.stdout.isEmpty, "\(line) wrote to stdout: \(result.stdout)")
            for word in says { #expect(result.stderr.contains(word), "\(line): stderr does not name \(word): \(result.stderr)") }
        }
    }

    @Test("every subcommand's help has two or three examples, and they use only that command's options")
    func examples() async throws {
        for name in try await Self.subcommands() {
            let help = try await VirtsyncBinary.run([name, "--help"])
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces) == "Examples:" }, "\(name) --help has no Examples:")
            let examples = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("virtsync \(name)") }
            #expect((2...3).contains(examples.count), "\(name): \(examples.count) examples: \(examples)")
            for example in examples {
                #expect(example.count <= 78, "\(name): an example wider than the help text: \(example)")
                for flag in example.split(separator: " ").filter({ $0.hasPrefix("--") }) {
                    #expect(help.stdout.contains("  \(flag) ") || help.stdout.contains("  \(flag)\n") || help.stdout.contains(" \(flag) <"),
                            "\(name): the example '\(example)' uses \(flag), which \(name) --help does not list")
                }
            }
        }
    }

    @Test("no option's help says its default twice (--path once said '(default: its root)' and '(default: .)')")
    func defaultsOnce() async throws {
        for name in try await Self.subcommands() {
            let help = try await VirtsyncBinary.run([name, "--help"])
            // An option's entry starts at a line indented by two and a dash; it runs until the next.
            var entries: [String] = []
            for line in help.stdout.split(separator: "\n") {
                if line.hasPrefix("  -") || line.hasPrefix("  <") || entries.isEmpty { entries.append(String(line)) } else { entries[entries.count - 1] += "\n" + line }
            }
            for entry in entries.dropFirst() {
                let count = entry.components(separatedBy: "(default").count - 1
                #expect(count <= 1, "\(name) --help:\n\(entry)")
            }
            if name == "plan" {
                #expect(help.stdout.contains("(default: .)"))
                #expect(help.stdout.contains("--log-level <log-level>"))
                let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                #expect(words.contains("values: trace, debug, info, notice, warning, error, critical"), "\(help.stdout)")
                #expect(help.stdout.contains("--color <when>"))
            }
        }
    }

    @Test("the bash completion script is valid bash; zsh and fish name every subcommand")
    func completions() async throws {
        let scratch = try ScratchDirectory(prefix: "completions")
        let subcommands = try await Self.subcommands()
        for shell in ["bash", "zsh", "fish"] {
            let result = try await VirtsyncBinary.run(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(shell): \(result.stderr)")
            #expect(result.stdout.count > 500, "\(shell): \(result.stdout.count) bytes")
            for name in subcommands { #expect(result.stdout.contains(name), "the \(shell) completion lacks \(name)") }
            #expect(result.stdout.contains(shell == "fish" ? "-l 'color'" : "--color"), "the \(shell) completion lacks --color")
            if shell == "bash" {
                let file = scratch.path("virtsync.bash")
                try Data(result.stdout.utf8).write(to: URL(fileURLWithPath: file))
                let check = try await Command.run("bash", ["-n", file])
                #expect(check.status == 0, "bash -n: \(check.stderr)")
            }
        }
        let bad = try await VirtsyncBinary.run(["--generate-completion-script", "tcsh"])
        #expect(bad.status == 1)
        #expect(bad.stdout.isEmpty && bad.stderr.contains("tcsh"))
    }
}
