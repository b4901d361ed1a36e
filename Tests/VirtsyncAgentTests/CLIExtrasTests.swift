import Foundation
import Testing
import VirtsyncTestSupport

/// What surrounds the CLI: colour on a real pseudo-terminal, the man page and completions as
/// `scripts/install-cli-extras.sh` installs them, and `virtsync-bench --help`.
@Suite("CLI extras: colour in a pseudo-terminal, man page, install script, bench help", .enabled(if: VirtsyncBinary.isBuilt))
struct CLIExtrasTests {
    /// The package root (this file is Tests/VirtsyncAgentTests/CLIExtrasTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The build directory that holds the `virtsync` under test.
    static var buildDirectory: URL { URL(fileURLWithPath: VirtsyncBinary.path).deletingLastPathComponent() }

    /// swift-argument-parser's generate-manual, as its GenerateManual plugin built it
    /// (`generate-manual-tool` beside virtsync; the plugin cannot run from a test, SwiftPM holds
    /// its build lock), or `GENERATE_MANUAL`.
    static var generateManual: String? {
        if let explicit = ProcessInfo.processInfo.environment["GENERATE_MANUAL"] { return explicit }
        let beside = buildDirectory.appendingPathComponent("generate-manual-tool").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let build = buildDirectory.resolvingSymlinksInPath()
        for scratch in [build.deletingLastPathComponent(), build.deletingLastPathComponent().deletingLastPathComponent()] {
            let tools = scratch.appendingPathComponent("plugins/tools")
            guard let found = FileManager.default.enumerator(atPath: tools.path) else { continue }
            for case let relative as String in found where relative.hasSuffix("/generate-manual") {
                let path = tools.appendingPathComponent(relative).path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }

    static var benchPath: String { buildDirectory.appendingPathComponent("virtsync-bench").path }

    /// Runs `virtsync arguments` inside a pseudo-terminal (util-linux `script`), so that its
    /// stdout is a terminal as on an operator's screen.
    static func inTerminal(_ arguments: [String], environment: [String: String]) async throws -> CommandResult {
        let line = ([VirtsyncBinary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        return try await Command.run("script", ["-q", "-e", "-c", line, "/dev/null"],
                                     environment: VirtsyncBinary.environment(environment), timeout: .seconds(120))
    }

    @Test("plan text is coloured on a terminal, and not with NO_COLOR, TERM=dumb, --color never, --no-color or a pipe",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func colourFollowsTheTerminal() async throws {
        let scratch = try ScratchDirectory(prefix: "colour")
        let tag = TinySpec.uniqueTag()
        let spec = try scratch.makeDirectory("spec")
        try Data(TinySpec.documents([TinySpec.vm("\(tag)-vm"), TinySpec.network("\(tag)-net")]).utf8)
            .write(to: URL(fileURLWithPath: spec + "/spec.yaml"))
        let plan = ["plan", spec, "--connect", "test:///default", "--state-dir", scratch.path("state")]
        let escape = "\u{1B}["
        let terminal = ["TERM": "xterm-256color", "NO_COLOR": ""]

        let coloured = try await Self.inTerminal(plan, environment: terminal)
        #expect(coloured.status == 0, "\(coloured.stdout)\(coloured.stderr)")
        #expect(coloured.stdout.contains("\(tag)-vm"), "\(coloured.stdout)")
        #expect(coloured.stdout.contains(escape), "no colour on a terminal: \(coloured.stdout)")

        let plain: [(String, [String], [String: String])] = [
            ("NO_COLOR=1", plan, terminal.merging(["NO_COLOR": "1"]) { $1 }),
            ("TERM=dumb", plan, ["TERM": "dumb", "NO_COLOR": ""]),
            ("--color never", plan + ["--color", "never"], terminal),
            ("--no-color", plan + ["--no-color"], terminal),
        ]
        for (label, arguments, environment) in plain {
            let result = try await Self.inTerminal(arguments, environment: environment)
            #expect(result.status == 0, "\(label): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("\(tag)-vm"), "\(label): \(result.stdout)")
            #expect(!result.stdout.contains(escape), "\(label): colour on a terminal: \(result.stdout)")
        }
        let forced = try await Self.inTerminal(plan + ["--color", "always"], environment: terminal.merging(["NO_COLOR": "1"]) { $1 })
        #expect(forced.stdout.contains(escape), "--color always beats NO_COLOR: \(forced.stdout)")

        let piped = try await VirtsyncBinary.run(plan, environment: terminal, timeout: .seconds(120))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.contains("\(tag)-vm") && !piped.stdout.contains(escape), "colour into a pipe: \(piped.stdout)")
        let always = try await VirtsyncBinary.run(plan + ["--color", "always"], environment: terminal, timeout: .seconds(120))
        #expect(always.stdout.contains(escape), "--color always into a pipe: \(always.stdout)")
    }

    @Test("install-cli-extras.sh installs a man page that man renders without warnings, and the three completions",
          .enabled(if: generateManual != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/man")))
    func installedExtras() async throws {
        let scratch = try ScratchDirectory(prefix: "cli-extras")
        let destination = scratch.path("root")
        let install = try await Command.run(Self.root + "/scripts/install-cli-extras.sh", ["--configuration", "debug"], in: Self.root,
                                            environment: VirtsyncBinary.environment(["DESTDIR": destination, "VIRTSYNC_BIN": VirtsyncBinary.path,
                                                                                     "GENERATE_MANUAL": Self.generateManual ?? ""]),
                                            timeout: .seconds(120))
        #expect(install.status == 0, "\(install.stderr)")
        let files = ["/usr/local/share/man/man1/virtsync.1", "/usr/share/bash-completion/completions/virtsync",
                     "/usr/local/share/zsh/site-functions/_virtsync", "/usr/share/fish/vendor_completions.d/virtsync.fish"]
        for file in files {
            let size = (try? FileManager.default.attributesOfItem(atPath: destination + file)[.size] as? Int) ?? 0
            #expect(size > 500, "\(file): \(size) bytes")
        }
        let bash = try await Command.run("bash", ["-n", destination + files[1]])
        #expect(bash.status == 0, "\(bash.stderr)")

        let page = destination + files[0]
        let man = try await Command.run("man", ["--warnings", "-l", page],
                                        environment: VirtsyncBinary.environment(["MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat"]))
        #expect(man.status == 0, "\(man.stderr)")
        #expect(man.stderr.isEmpty, "man -l warns:\n\(man.stderr)")
        for word in ["virtsync", "plan", "apply", "validate", "--color", "--log-level"] {
            #expect(man.stdout.contains(word), "the man page lacks \(word)")
        }
    }

    @Test("virtsync-bench --help prints its usage and exits 0 without running anything; an unknown argument exits 1",
          .enabled(if: FileManager.default.isExecutableFile(atPath: benchPath)))
    func benchHelp() async throws {
        // A URI that goes nowhere, in case the help ever ran the benchmark again.
        let environment = VirtsyncBinary.environment(["VIRTSYNC_BENCH_URI": "test:///default"])
        for flag in ["--help", "-h"] {
            let help = try await Command.run(Self.benchPath, [flag], environment: environment, timeout: .seconds(30))
            #expect(help.status == 0, "\(help.stderr)")
            #expect(help.stdout.contains("USAGE: virtsync-bench") && help.stdout.contains("--ha-sim"), "\(help.stdout)")
            #expect(!help.stdout.contains("VMs |"), "the benchmark ran: \(help.stdout)")
            #expect(help.stderr.isEmpty, "\(help.stderr)")
        }
        let typo = try await Command.run(Self.benchPath, ["--sizez", "10"], environment: environment, timeout: .seconds(30))
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("--sizez") && typo.stdout.isEmpty, "\(typo.stdout)\(typo.stderr)")
        let missing = try await Command.run(Self.benchPath, ["--no-libvirt", "--sizes"], environment: environment, timeout: .seconds(30))
        #expect(missing.status == 1 && missing.stderr.contains("--sizes needs a value"), "\(missing.stderr)")
    }
}
