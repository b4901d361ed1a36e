import Foundation

/// The real `virtsync` executable, built beside the test bundle, run as a short-lived child.
///
/// The CLI tests drive it as an operator would: arguments in, exit status and output back.
/// It never reads a terminal (stdin is /dev/null) and never inherits a `VIRTSYNC_*` setting of
/// the machine, so a stray `VIRTSYNC_STATE_DIR` or `VIRTSYNC_CONNECT` cannot leak into a test.
public enum VirtsyncBinary {
    /// The executable: `VIRTSYNC_BIN` when set, else `virtsync` in the build directory that holds
    /// the test bundle (the runner may be the bundle itself or a file inside it).
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["VIRTSYNC_BIN"] { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("virtsync").path
    }

    /// The hosts directory (per-host inventories and locks) every run of this test process
    /// shares, as the virtsync instances of one machine do.
    public static let hostsDirectory: String = {
        let path = NSTemporaryDirectory() + "virtsync-hosts-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Whether the executable exists (it is built by `swift build --build-tests`).
    public static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The environment of every run: the test's own, without `VIRTSYNC_*`, and with
    /// `VIRTSYNC_SHUTDOWN_TIMEOUT=0` (test guests have no OS to answer an ACPI shutdown).
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VIRTSYNC_") }
        environment["VIRTSYNC_SHUTDOWN_TIMEOUT"] = "0"
        // Host inventories and locks of this test process, never the machine's.
        environment["VIRTSYNC_HOSTS_DIR"] = hostsDirectory
        environment["LANG"] = "C"
        environment["LC_ALL"] = "C"
        return environment.merging(extra) { $1 }
    }

    /// Runs `virtsync arguments...` and waits; never throws for a non-zero exit status.
    ///
    /// - Parameter timeout: how long the run may take; then it is stopped (SIGTERM, SIGKILL 5 s
    ///   later) and `FixtureError` thrown with what it had written (see `Command.run`).
    public static func run(_ arguments: [String], in directory: String? = nil,
                           environment extra: [String: String] = [:],
                           timeout: Duration = .seconds(600)) async throws -> CommandResult {
        guard isBuilt else {
            throw FixtureError(command: [path], stderr: "virtsync is not built; run `swift build --build-tests` first")
        }
        return try await Command.run(path, arguments, in: directory, environment: environment(extra), timeout: timeout)
    }
}
