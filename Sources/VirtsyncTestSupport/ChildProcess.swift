import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-lived child process started with `posix_spawn` and reaped by this value alone.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a socket the child
/// inherited closes, then blocks its single monitor thread in `waitpid` for that child. sshd closes
/// every inherited descriptor at startup, so under `Process` the monitor thread would wait for
/// sshd's exit and every other `Process` in the test run (git, ssh-keygen) would hang as a zombie.
public final class ChildProcess {
    /// The child's process id.
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `executable` (an absolute path) with `arguments` and exactly `environment`; stdin is
    /// /dev/null, stdout and stderr are appended to the file at `outputPath`.
    public init(executable: String, arguments: [String], environment: [String: String], outputPath: String) throws {
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // The test runner blocks some signals (SIGTERM among them); a child would inherit that
        // mask and ignore `terminate()`. Start it with nothing blocked and default handlers.
        #if canImport(Glibc)
        var attributes = posix_spawnattr_t()
        #else
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw FixtureError(command: [executable] + arguments, status: status, stderr: String(cString: strerror(status)))
        }
        pid = child
    }

    deinit { terminate() }

    /// Whether the child is still running (reaps it if it has ended).
    public var isRunning: Bool {
        reap(blocking: false)
        return exitStatus == nil
    }

    /// The raw wait status once the child has ended, else nil.
    public var status: Int32? {
        reap(blocking: false)
        return exitStatus
    }

    /// Sends SIGTERM, waits up to `timeout` seconds, then SIGKILL; returns once the child is reaped.
    public func terminate(timeout: TimeInterval = 5) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(10_000) }
        if isRunning {
            kill(pid, SIGKILL)
            reap(blocking: true)
        }
    }

    private func reap(blocking: Bool) {
        guard exitStatus == nil else { return }
        var status: Int32 = 0
        let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        if result == pid {
            exitStatus = status
        } else if result < 0 && errno == ECHILD {
            exitStatus = -1 // reaped elsewhere; it is gone either way
        }
    }
}
