import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The command line of virtsync-bench, checked before anything runs: `--help` prints the usage
/// and exits 0, and an argument it does not know is a usage error (exit 1), because a mistyped
/// option would otherwise start the default run against the host's libvirt.
enum BenchArguments {
    /// Options followed by a value.
    static let options: Set<String> = [
        "--uri", "--sizes", "--git-files", "--state", "--child", "--n", "--owner",
        "--agent-domains", "--agent-rounds", "--small-vms", "--small-rounds", "--rounds",
        "--migration-vms", "--migration-per-host", "--migration-per-cluster",
        "--ha-kills", "--ha-vms", "--etcd-election", "--faults", "--campaign-seed",
        "--seeds", "--from", "--jobs", "--variant-budget", "--show", "--variant",
    ]

    /// Options on their own.
    static let flags: Set<String> = [
        "--no-libvirt", "--no-git", "--git-only", "--agent-only", "--small-only", "--migration-only",
        "--ha-only", "--ha-campaign", "--ha-sim", "--variants",
    ]

    static let usage = """
        USAGE: virtsync-bench [--uri URI] [--sizes 100,1000,5000] [--rounds 5] [--no-libvirt] [--git-files 1000 | --no-git]
               virtsync-bench --git-only [--git-files 1000]
               virtsync-bench --agent-only [--uri URI] [--agent-domains 1000] [--agent-rounds 10]
               virtsync-bench --small-only [--uri URI] [--small-vms 20] [--small-rounds 3]
               virtsync-bench --migration-only [--migration-vms 20] [--migration-per-host 4] [--migration-per-cluster 4]
               virtsync-bench --ha-only [--ha-kills 20] [--ha-vms 10] [--etcd-election MS]
               virtsync-bench --ha-campaign [--faults 200] [--ha-vms 6] [--campaign-seed S] [--etcd-election 500]
               virtsync-bench --ha-sim [--seeds 10000] [--from 0] [--jobs N] [--variants] [--variant-budget 1000]
               virtsync-bench --ha-sim --show SEED [--variant no-self-fence|no-guard|deadline-from-reply|no-epoch-check]

        Prints figures (time, peak memory) for generated specs: validate, plan, and libvirt's own
        listing of the same domains. The default run creates and removes bench- resources at
        --uri (default: qemu:///system, or VIRTSYNC_BENCH_URI); --no-libvirt measures validation
        only. --ha-only and --ha-campaign need root and the testbed (exit 3 without them) and
        exit 1 when a VM was not recovered or ran twice; --ha-sim exits 1 on any violation.

        OPTIONS:
          -h, --help    Show this help and exit.

        """

    /// The usage error for `arguments` (without the program name), or nil when they are fine.
    static func problem(_ arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if options.contains(argument) {
                guard index + 1 < arguments.count else { return "\(argument) needs a value" }
                index += 2
            } else if flags.contains(argument) {
                index += 1
            } else {
                return "unknown argument '\(argument)'"
            }
        }
        return nil
    }

    /// Prints the usage and exits 0 on `-h`/`--help`; prints the problem and exits 1 on a usage
    /// error; returns when the arguments are fine.
    static func check(_ arguments: [String]) {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage, terminator: "")
            fflush(nil)
            exit(0)
        }
        if let problem = problem(arguments) {
            FileHandle.standardError.write(Data("virtsync-bench: \(problem)\n\n\(usage)".utf8))
            exit(1)
        }
    }
}
