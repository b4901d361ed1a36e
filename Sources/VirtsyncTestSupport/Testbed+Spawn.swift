import Foundation

extension Testbed {
    /// Starts `argv` in the background inside `host`'s network, mount and UTS namespaces (an agent,
    /// a client), its stdout and stderr appended to `logPath` (a root-namespace path; the testbed's
    /// directories are at the same paths inside the hosts).
    ///
    /// It goes through scripts/testbed.sh `exec`, which execs nsenter, which execs `argv`: the
    /// returned process *is* the command, inside the host, with no wrapper left outside, so `kill`
    /// and `freeze` of the host reach it and `terminate()` signals the command itself.
    ///
    /// - Parameters:
    ///   - environment: added to a small base (PATH, LANG, HOME and the testbed's own variables);
    ///     nothing else of the test process's environment is passed on.
    /// - Throws: `FixtureError` when the script cannot be started. A command that cannot run
    ///   inside the host exits at once (status 127 or 1) with the reason in `logPath`.
    public func spawn(_ host: Host, _ argv: [String], logPath: String,
                      environment: [String: String] = [:]) throws -> ChildProcess {
        precondition(!argv.isEmpty, "spawn needs a command")
        let inherited = ProcessInfo.processInfo.environment
        var base = ["PATH": inherited["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG": "C.UTF-8", "HOME": inherited["HOME"] ?? "/root"]
        for key in ["VIRTSYNC_TESTBED_ROOT", "VIRTSYNC_TESTBED_TIMEOUT"] { base[key] = inherited[key] }
        return try ChildProcess(executable: "/bin/bash",
                                arguments: [Self.scriptPath, "exec", host.name, "--name", name, "--"] + argv,
                                environment: base.merging(environment) { $1 }, outputPath: logPath)
    }
}
