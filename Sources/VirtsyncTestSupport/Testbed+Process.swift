import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a testbed step failed: the machine cannot run one, the step failed, or it ran out of time.
public struct TestbedError: Error, CustomStringConvertible {
    /// What kind of failure; tests skip on `.unavailable` and fail on the others.
    public enum Code: Sendable, Equatable {
        /// This machine cannot run a testbed (not root, no namespaces, libvirt missing).
        case unavailable
        /// A step ended with a non-zero status.
        case failed
        /// A step did not end within its deadline (it was terminated).
        case timedOut
    }

    /// The kind of failure.
    public let code: Code
    /// What failed, for humans.
    public let message: String
    /// The step's standard error (the script names the host and the log file to read there).
    public let stderr: String

    /// The message, then the step's standard error.
    public var description: String {
        stderr.isEmpty ? message : "\(message)\n\(stderr)"
    }
}

extension Testbed {
    /// Runs `argv` (absolute executable first) to completion within `timeout` seconds and returns
    /// its exit status (128 + signal when killed by one) and output.
    ///
    /// A `ChildProcess` (posix_spawn, signal mask cleared), not Foundation's `Process`: the script
    /// starts daemons that outlive it and must not inherit the test runner's blocked signals, and
    /// stdout and stderr go to files, so no pipe stays open behind those daemons. On timeout the
    /// child gets SIGTERM (the script then tears down a half-done `up`), SIGKILL 10 s later.
    static func run(_ argv: [String], timeout: TimeInterval, environment: [String: String] = [:]) throws -> CommandResult {
        let base = NSTemporaryDirectory() + "virtsync-testbed-\(getpid())-\(UUID().uuidString)"
        let (outPath, errPath) = (base + ".out", base + ".err")
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let split = #"out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err""#
        let child = try ChildProcess(executable: "/bin/bash", arguments: ["-c", split, "testbed", outPath, errPath] + argv,
                                     environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                     outputPath: errPath)
        let deadline = Date().addingTimeInterval(timeout)
        while child.isRunning && Date() < deadline { usleep(5_000) }
        let timedOut = child.isRunning
        if timedOut { child.terminate(timeout: 10) }
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if timedOut {
            throw TestbedError(code: .timedOut, message: "`\(argv.joined(separator: " "))` did not end within \(Int(timeout)) s",
                               stderr: stderr)
        }
        let raw = child.status ?? -1
        let status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return CommandResult(status: status, stdout: stdout, stderr: stderr)
    }

    /// Runs `scripts/testbed.sh command arguments... --name NAME [-- trailing...]`; throws on failure.
    @discardableResult
    static func script(_ command: String, _ arguments: [String] = [], name: String, trailing: [String] = [],
                       timeout: TimeInterval = 60, environment: [String: String] = [:]) throws -> String {
        var argv = ["/bin/bash", scriptPath, command] + arguments + ["--name", name]
        if !trailing.isEmpty { argv += ["--"] + trailing }
        let result = try run(argv, timeout: timeout, environment: environment)
        switch result.status {
        case 0:
            return result.stdout
        case 3:
            throw TestbedError(code: .unavailable, message: "scripts/testbed.sh \(command): no testbed can run here",
                               stderr: result.stderr)
        default:
            throw TestbedError(code: .failed, message: "scripts/testbed.sh \(command) \(arguments.joined(separator: " ")) "
                               + "--name \(name) failed (status \(result.status))", stderr: result.stderr)
        }
    }

    /// scripts/testbed.sh of this package: `VIRTSYNC_TESTBED_SCRIPT` when set, else found from this
    /// source file (Sources/VirtsyncTestSupport/ is two levels below the package root).
    public static var scriptPath: String {
        if let explicit = ProcessInfo.processInfo.environment["VIRTSYNC_TESTBED_SCRIPT"] { return explicit }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testbed.sh").path
    }

    /// Why no testbed can run on this machine, or nil when one can. Checked once: root, the script,
    /// the tools it needs, and whether new network, mount and UTS namespaces can be created.
    public static let unavailableReason: String? = {
        guard geteuid() == 0 else { return "the testbed needs root (namespaces, mounts, libvirtd)" }
        guard FileManager.default.isReadableFile(atPath: scriptPath) else { return "\(scriptPath) not found" }
        for tool in ["ip", "nsenter", "unshare", "timeout", "libvirtd", "virtlogd", "virtlockd", "virsh", "qemu-system-x86_64"] {
            guard (try? Command.locate(tool)) != nil else { return "\(tool) not found (run scripts/install-deps.sh)" }
        }
        guard let netns = try? run(["/bin/sh", "-c", "ip netns list"], timeout: 10), netns.succeeded else {
            return "`ip netns` does not work here"
        }
        guard let probe = try? run(["/bin/sh", "-c", "unshare --net --mount --uts true"], timeout: 10), probe.succeeded else {
            return "cannot create network, mount and UTS namespaces here"
        }
        return nil
    }()

    /// Whether a testbed can run on this machine (see `unavailableReason`).
    public static var available: Bool { unavailableReason == nil }
}
