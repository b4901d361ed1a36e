import Foundation

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

/// Runs external programs for the fixtures, synchronously.
///
/// Output goes to temporary files rather than pipes: no deadlock on large output, and no hang when
/// a concurrently started long-lived process (such as sshd) inherits the write end of a pipe.
public enum Command {
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

    /// Runs `executable` with `arguments` and waits; never throws for a non-zero exit status.
    ///
    /// - Parameters:
    ///   - directory: the working directory (default: the current one).
    ///   - environment: the complete environment (default: inherited).
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                    environment: [String: String]? = nil) throws -> CommandResult {
        let scratch = FileManager.default.temporaryDirectory
        let outURL = scratch.appendingPathComponent("virtsync-cmd-\(UUID().uuidString).out")
        let errURL = scratch.appendingPathComponent("virtsync-cmd-\(UUID().uuidString).err")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try openForWriting(outURL)
        let err = try openForWriting(errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate(executable))
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: try String(decoding: Data(contentsOf: outURL), as: UTF8.self),
                             stderr: try String(decoding: Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs like `run` and returns standard output; throws `FixtureError` (with stderr) on failure.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], in directory: String? = nil,
                      environment: [String: String]? = nil) throws -> String {
        let result = try run(executable, arguments, in: directory, environment: environment)
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
}
