import Foundation

/// A fixture step that failed: the command (or step) that failed, its exit status and its output.
public struct FixtureError: Error, CustomStringConvertible {
    /// The command line, or a short name of the step that failed.
    public let command: [String]
    /// The exit status, or -1 when the step was not a process.
    public let status: Int32
    /// What the command wrote to standard error (or a message for non-process steps).
    public let stderr: String
    /// What the command wrote to standard output.
    public let stdout: String

    public init(command: [String], status: Int32 = -1, stderr: String, stdout: String = "") {
        self.command = command
        self.status = status
        self.stderr = stderr
        self.stdout = stdout
    }

    public var description: String {
        var text = "`\(command.joined(separator: " "))` failed (status \(status))"
        if !stderr.isEmpty { text += "\nstderr: \(stderr)" }
        if !stdout.isEmpty { text += "\nstdout: \(stdout)" }
        return text
    }
}
