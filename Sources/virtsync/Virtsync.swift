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
    /// Runs the command; usage errors exit 1 (not ArgumentParser's 64), as every error does.
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
        } catch let clean as CleanExit {
            exit(withError: clean)   // --help, --version
        } catch let code as ExitCode {
            status = code.rawValue
        } catch {
            // Usage and validation errors: ArgumentParser's message, exit 1.
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            status = Exit.error
        }
        // `_exit`, not `exit`: a libvirt read started before the spec turned out invalid may
        // still run on another thread, and the process's exit handlers crash under it. All
        // state was already written atomically; the kernel drops the lock.
        fflush(nil)
        _exit(status)
    }

    static let configuration = CommandConfiguration(
        commandName: "virtsync",
        abstract: "Keep KVM/libvirt hosts equal to YAML specs: validate, plan, apply.",
        version: VirtsyncVersion.current,
        subcommands: [Validate.self, PlanCommand.self, Apply.self, ShowCommand.self, DiffCommand.self, ImportCommand.self, AgentCommand.self, StatusCommand.self,
                      ReconcileCommand.self, SuspendCommand.self, ResumeCommand.self]
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

    @Option(name: .long, help: "Seconds apply waits for another virtsync that holds a host's lock (default 60).")
    var lockTimeout: Int = 60

    @Flag(name: .long, help: "Allow a plan that deletes more than the spec's maxDeletePercent of managed resources.")
    var allowMassDelete = false

    @Option(name: .long, help: "Log level for diagnostics on stderr (trace, debug, info, notice, warning, error).")
    var logLevel: String = "warning"

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
