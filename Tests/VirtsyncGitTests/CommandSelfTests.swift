import Foundation
import VirtsyncTestSupport
import Testing

/// Proves `Command`, the runner of every short-lived child of the fixtures: output, environment,
/// deadlines, and children that leave something behind.
@Suite("short-lived commands")
struct CommandSelfTests {
    @Test("stdout and stderr come back apart with the exit status; stdin is empty")
    func output() async throws {
        let result = try await Command.run("/bin/sh", ["-c", "cat; echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test("a given environment is the whole environment; the working directory is the one given")
    func environmentAndDirectory() async throws {
        let scratch = try ScratchDirectory(prefix: "command")
        let result = try await Command.run("/bin/sh", ["-c", "echo \"$ONLY|${HOME:-unset}\"; pwd"], in: scratch.path,
                                           environment: ["ONLY": "this", "PATH": "/usr/bin:/bin"])
        #expect(result.stdout == "this|unset\n\(URL(fileURLWithPath: scratch.path).resolvingSymlinksInPath().path)\n")
        let inherited = try await Command.check("/bin/sh", ["-c", "echo \"$PATH\""])
        #expect(inherited == (ProcessInfo.processInfo.environment["PATH"] ?? "") + "\n")
    }

    @Test("output far larger than a pipe's buffer is collected whole")
    func largeOutput() async throws {
        let result = try await Command.run("/bin/sh", ["-c", "head -c 5000000 /dev/zero | tr '\\0' x; head -c 300000 /dev/zero >&2"])
        #expect(result.succeeded)
        #expect(result.stdout.utf8.count == 5_000_000)
        #expect(result.stderr.utf8.count == 300_000)
    }

    @Test("a child that leaves a grandchild holding its stdout and stderr returns when the child exits")
    func grandchildHoldsPipes() async throws {
        let start = ContinuousClock.now
        let result = try await Command.run("/bin/sh", ["-c", "sleep 20 & echo started"])
        #expect(result.succeeded)
        #expect(result.stdout == "started\n")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("a child past its deadline is killed, and the error says so with what it had written")
    func timeout() async throws {
        let start = ContinuousClock.now
        let error = await #expect(throws: FixtureError.self) {
            try await Command.run("/bin/sh", ["-c", "echo partial; echo progress >&2; exec sleep 30"], timeout: .milliseconds(500))
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error?.stdout == "partial\n")
        #expect(error?.stderr.contains("timed out after 0.5 s") == true, "\(String(describing: error))")
        #expect(error?.stderr.contains("progress") == true, "\(String(describing: error))")
    }

    @Test("a missing executable is a FixtureError naming it")
    func missing() async throws {
        await #expect(throws: FixtureError.self) { try await Command.run("virtsync-no-such-tool", []) }
        await #expect(throws: FixtureError.self) { try await Command.run("/nonexistent/tool", []) }
    }
}
