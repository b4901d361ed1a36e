import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// The `virtsync` command: declarative reconciliation of KVM/libvirt hosts from YAML specs.
@main
struct Virtsync: AsyncParsableCommand {
    /// Runs the command. What the operator asked for (`--help`, `help CMD`, `--version`,
    /// `--generate-completion-script`, `--experimental-dump-help`) goes to stdout with exit 0, so
    /// that `virtsync --help | less` and `virtsync --generate-completion-script bash > file`
    /// work; usage and validation errors go to stderr with exit 1 (not ArgumentParser's 64), as
    /// every error does.
    static func main() async {
        // A dead host or a closed socket is an error to report, never a signal that kills us.
        BrokenPipes.ignore()
        var status: Int32 = Exit.ok
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            status = code.rawValue   // the command printed its own message
        } catch {
            status = report(error)
        }
        // `_exit`, not `exit`: a libvirt read started before the spec turned out invalid may
        // still run on another thread, and the process's exit handlers crash under it. All
        // state was already written atomically; the kernel drops the lock. Nothing buffered is
        // lost: `report` writes unbuffered, and stdio's buffers are flushed here.
        fflush(nil)
        _exit(status)
    }

    /// Prints what ArgumentParser has to say about `error` and returns the exit status: a
    /// requested text (help, version, a completion script) on stdout with 0, anything else
    /// on stderr with 1.
    ///
    /// ArgumentParser's own `exit(withError:)` cannot be used: it calls `exit`, which runs the
    /// exit handlers that `_exit` above avoids.
    static func report(_ error: any Error) -> Int32 {
        let text = fullMessage(for: error)
        let line = text.hasSuffix("\n") || text.isEmpty ? text : text + "\n"
        fflush(nil)   // what the command printed before comes first
        if exitCode(for: error).isSuccess {
            write(line, to: STDOUT_FILENO)
            return Exit.ok
        }
        write(line, to: STDERR_FILENO)
        return Exit.error
    }

    /// Writes all of `text` to `fd`, giving up quietly when the reader is gone
    /// (`virtsync --help | head -3`): that is no error worth a crash or a message.
    private static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let written = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            done += written
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "virtsync",
        abstract: "Keep KVM/libvirt hosts equal to YAML specs: validate, plan, apply.",
        version: VirtsyncVersion.current,
        subcommands: [Validate.self, PlanCommand.self, Apply.self, ShowCommand.self, DiffCommand.self, ImportCommand.self, AgentCommand.self, StatusCommand.self,
                      ReconcileCommand.self, SuspendCommand.self, ResumeCommand.self, ServeCommand.self]
    )
}

/// Options for commands that talk to libvirt.
struct HostOptions: ParsableArguments {
    @Option(name: .long, help: "libvirt URI of the host of a single-host spec (default: qemu:///system).")
    var connect: String?

    @Option(name: .long, help: "State directory (inventory of created networks, pools, volumes; lock).")
    var stateDir: String?

    @Flag(name: .long, help: "Remove managed resources that are no longer in the spec.")
    var prune = false

    @Flag(name: .long, help: "Claim the resources of the spec that an earlier virtsync wrote without an owner (an adopt step each).")
    var claimUnowned = false

    @Option(name: .long, help: "Directory of the per-host inventories and locks, shared by every state directory (default /var/lib/virtsync/hosts, or VIRTSYNC_HOSTS_DIR).")
    var hostsDir: String?

    @Option(name: .long, help: "Seconds apply waits for another virtsync that holds a host's lock.")
    var lockTimeout: Int = 60

    @Flag(name: .long, help: "Allow a plan that deletes more than the spec's maxDeletePercent of managed resources.")
    var allowMassDelete = false

    @Option(name: .long, help: "Log level for diagnostics on stderr.")
    var logLevel: LogLevel = .warning

    @Option(name: .long, help: "Seconds a guest gets to shut down by ACPI before it is destroyed, when it is stopped or removed (default 60, or VIRTSYNC_SHUTDOWN_TIMEOUT; 0 destroys at once).")
    var shutdownTimeout: Int?

    var resolvedShutdownTimeout: Duration {
        .seconds(max(0, shutdownTimeout ?? Environment.value("VIRTSYNC_SHUTDOWN_TIMEOUT").flatMap { Int($0) } ?? 60))
    }

    var resolvedStateDir: String {
        stateDir ?? Environment.value("VIRTSYNC_STATE_DIR") ?? "/var/lib/virtsync"
    }

    var resolvedHostsDir: String { HostsDirectory.resolve(hostsDir) }
}

/// Exit codes, following the usual convention for plan tools.
enum Exit {
    static let ok: Int32 = 0
    static let error: Int32 = 1
    static let changes: Int32 = 2
}

/// The levels `--log-level` accepts; anything else is a usage error that names them.
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical
}
