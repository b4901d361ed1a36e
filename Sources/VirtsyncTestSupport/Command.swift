import Foundation
import Subprocess
import SystemPackage

/// The outcome of one finished process.
public struct CommandResult: Sendable {
    /// The exit status (or the signal number when the process was killed by one).
    public let status: Int32
    /// Standard output, decoded as UTF-8 (lossy).
    public let stdout: String
    /// Standard error, decoded as UTF-8 (lossy).
    public let stderr: String

    /// Whether the process exited with status 0.
    public var succeeded: Bool { status == 0 }
}

/// Runs short-lived external programs for the fixtures, with swift-subprocess and a deadline.
///
/// Waiting holds no thread: swift-subprocess watches the child's exit on a thread of its own
/// (a pidfd per child) and reads its output without blocking, so async tests that run commands
/// leave Swift's cooperative pool to the others.
///
/// Output comes through pipes, collected in memory up to `outputLimit` per stream, not through
/// temporary files as under Foundation's `Process`: swift-subprocess 1.0.2 rules out both ways a
/// pipe could hang (on Linux; `CommandSelfTests` checks the second). Its pipes are created
/// close-on-exec (`pipe2(O_CLOEXEC)`) and the child marks every descriptor above stderr
/// close-on-exec before `execve` (`close_range`), so a long-lived process started meanwhile
/// (sshd, through `ChildProcess`) never holds one of our pipe ends. And when the child exits,
/// reads still waiting are cancelled once the bytes already in the pipe are drained, so a
/// grandchild that keeps the child's stdout or stderr open (a daemon it started) cannot stall
/// collection; what such a grandchild writes later is not collected, and it is not killed.
public enum Command {
    /// The most bytes kept from each of stdout and stderr; a child that writes more is killed and
    /// `run` throws.
    public static let outputLimit = 64 << 20

    /// How a child that outlives its deadline (or whose caller is cancelled) is stopped: SIGTERM,
    /// then SIGKILL when it is still there 5 s later.
    static let teardown: [TeardownStep] = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]

    /// The absolute path of `name` found on `PATH` (or `name` itself when it contains a slash).
    public static func locate(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw FixtureError(command: [name], stderr: "not found on PATH \(path)")
    }

    /// Runs `executable` with `arguments` (stdin is /dev/null) and waits for it; never throws
    /// for a non-zero exit status.
    ///
    /// - Parameters:
    ///   - directory: the working directory (default: the current one).
    ///   - environment: the complete environment (default: inherited).
    ///   - timeout: how long the child may run; then it is stopped (SIGTERM, SIGKILL 5 s later).
    /// - Throws: `FixtureError` when the executable cannot be found or started, when the child
    ///   outlives `timeout` or writes more than `outputLimit` bytes to a stream (with what it
    ///   had written until then).
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                           environment: [String: String]? = nil,
                           timeout: Duration = .seconds(300)) async throws -> CommandResult {
        let command = [executable] + arguments
        var options = PlatformOptions()
        options.teardownSequence = teardown
        let finished: ExecutionResult<Collected, SequenceOutput, SequenceOutput>
        do {
            finished = try await Subprocess.run(
                .path(FilePath(try locate(executable))), arguments: Arguments(arguments),
                environment: environment.map(subprocessEnvironment) ?? .inherit,
                workingDirectory: directory.map { FilePath($0) }, platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                try await collect(execution, timeout: timeout)
            }
        } catch let error as SubprocessError {
            throw FixtureError(command: command, stderr: "swift-subprocess: \(error)")
        }
        let collected = finished.closureResult
        let status: Int32
        switch finished.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = signal
        }
        let stdout = String(decoding: collected.stdout, as: UTF8.self)
        let stderr = String(decoding: collected.stderr, as: UTF8.self)
        if let failure = collected.failure(timeout: timeout) {
            throw FixtureError(command: command, status: status,
                               stderr: failure + (stderr.isEmpty ? "" : "; its stderr until then:\n" + stderr),
                               stdout: stdout)
        }
        return CommandResult(status: status, stdout: stdout, stderr: stderr)
    }

    /// Runs like `run` and returns standard output; throws `FixtureError` (with stderr) on failure.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], in directory: String? = nil,
                             environment: [String: String]? = nil,
                             timeout: Duration = .seconds(300)) async throws -> String {
        let result = try await run(executable, arguments, in: directory, environment: environment, timeout: timeout)
        guard result.succeeded else {
            throw FixtureError(command: [executable] + arguments, status: result.status,
                               stderr: result.stderr, stdout: result.stdout)
        }
        return result.stdout
    }

    /// Creates (or truncates) `url` and opens it for writing.
    public static func openForWriting(_ url: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw FixtureError(command: ["create", url.path], stderr: "cannot create file")
        }
        return try FileHandle(forWritingTo: url)
    }

    // MARK: Collecting

    /// What one run produced, and whether it was stopped early.
    struct Collected: Sendable {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var timedOut = false
        var overflowed = false

        /// Why the run counts as failed whatever its status, or nil.
        func failure(timeout: Duration) -> String? {
            if timedOut { return "timed out after \(Command.seconds(timeout)) s and was killed" }
            if overflowed { return "wrote more than \(Command.outputLimit >> 20) MiB to stdout or stderr and was killed" }
            return nil
        }
    }

    private enum Event: Sendable {
        case stdout([UInt8], complete: Bool)
        case stderr([UInt8], complete: Bool)
        case deadline
    }

    /// Reads stdout and stderr side by side until both end (at the child's exit at the latest),
    /// stopping the child when `timeout` passes or a stream exceeds `outputLimit`.
    private static func collect(_ execution: Execution<NoInput, SequenceOutput, SequenceOutput>,
                                timeout: Duration) async throws -> Collected {
        try await withThrowingTaskGroup(of: Event.self) { group in
            group.addTask {
                let (bytes, complete) = try await read(execution.standardOutput)
                return .stdout(bytes, complete: complete)
            }
            group.addTask {
                let (bytes, complete) = try await read(execution.standardError)
                return .stderr(bytes, complete: complete)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .deadline
            }
            var collected = Collected()
            var open = 2
            var stopped = false
            while open > 0, let event = try await group.next() {
                switch event {
                case .stdout(let bytes, let complete):
                    collected.stdout = bytes
                    collected.overflowed = collected.overflowed || !complete
                    open -= 1
                case .stderr(let bytes, let complete):
                    collected.stderr = bytes
                    collected.overflowed = collected.overflowed || !complete
                    open -= 1
                case .deadline:
                    collected.timedOut = true
                }
                // Nobody reads an overflowing stream any more; the child would block on it.
                if (collected.timedOut || collected.overflowed) && !stopped {
                    stopped = true
                    await execution.teardown(using: teardown)
                }
            }
            group.cancelAll()
            return collected
        }
    }

    /// The bytes of `stream` up to `outputLimit`, and whether it ended within the limit.
    private static func read(_ stream: SubprocessOutputSequence) async throws -> ([UInt8], Bool) {
        var bytes: [UInt8] = []
        for try await buffer in stream {
            guard bytes.count + buffer.count <= outputLimit else { return (bytes, false) }
            buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return (bytes, true)
    }

    /// `environment` as swift-subprocess takes it: exactly these variables, nothing inherited.
    private static func subprocessEnvironment(_ environment: [String: String]) -> Environment {
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment {
            // `Environment.Key(rawValue:)` accepts every string; it is only failable by protocol.
            guard let key = Environment.Key(rawValue: name) else { continue }
            variables[key] = value
        }
        return .custom(variables)
    }

    /// `duration` in seconds for messages: `300`, `0.5`.
    static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        let value = Double(whole) + Double(fraction) / 1e18
        return value == value.rounded() ? String(Int64(whole)) : String(value)
    }
}
