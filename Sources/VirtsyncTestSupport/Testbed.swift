import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Several libvirt hosts on this machine, for cluster tests: each a libvirtd (with its own virtlogd
/// and virtlockd) in its own network, mount and UTS namespaces, run by scripts/testbed.sh. Guests
/// live-migrate between them, and host failures come on demand: power loss (`kill`), a hung host
/// (`freeze`), a cut network (`partition`), a reboot.
///
/// One testbed per test, under a unique name, always taken down:
///
///     let testbed = try Testbed.up(hosts: 3, name: Testbed.uniqueName())
///     defer { try? testbed.down() }
///
/// Every call has a deadline: a frozen or cut-off host makes calls fail, never hang.
public final class Testbed: Sendable {
    /// One libvirt host of the testbed.
    public struct Host: Sendable, Hashable, CustomStringConvertible {
        /// `host-1`, `host-2`, ...: also its hostname inside the testbed.
        public let name: String
        /// Its libvirtd from the root namespace (the test process): `qemu+unix:///system?socket=...`.
        public let uri: String
        /// Its libvirtd from the other hosts (peer-to-peer migration): `qemu+tcp://ADDRESS/system`.
        public let peerURI: String
        /// The host UUID its libvirtd reports (distinct per host; migration needs that).
        public let uuid: String
        /// Its IPv4 address on the testbed's bridge.
        public let address: String

        /// The host's name.
        public var description: String { name }
    }

    /// The testbed's name: the prefix of its namespaces, and its directory's name.
    public let name: String
    /// The hosts, `host-1` first.
    public let hosts: [Host]
    /// Storage every host sees, at the same path inside the hosts and in the root namespace.
    public let sharedDirectory: String

    private init(name: String, hosts: [Host], sharedDirectory: String) {
        self.name = name
        self.hosts = hosts
        self.sharedDirectory = sharedDirectory
    }

    /// A testbed name unique to this run: `prefix` and eight random hex digits.
    public static func uniqueName(prefix: String = "vst") -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
    }

    /// Brings up `hosts` hosts named `host-1...` (tearing down a leftover testbed of that name first)
    /// and returns once every one answers.
    ///
    /// - Throws: `TestbedError` with code `.unavailable` when this machine cannot run a testbed
    ///   (callers skip), `.failed` or `.timedOut` otherwise (nothing is left behind then).
    public static func up(hosts count: Int, name: String = uniqueName(), timeout: TimeInterval = 180) throws -> Testbed {
        if let reason = unavailableReason {
            throw TestbedError(code: .unavailable, message: reason, stderr: "")
        }
        let lines = try Self.script("up", [String(count)], name: name, timeout: timeout).split(separator: "\n")
        let hosts = try lines.map { line -> Host in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4, let address = fields[2].split(separator: "/").dropFirst().first else {
                throw TestbedError(code: .failed, message: "scripts/testbed.sh up: unexpected line '\(line)'", stderr: "")
            }
            return Host(name: fields[0], uri: fields[1], peerURI: fields[2], uuid: fields[3], address: String(address))
        }
        let shared = try Self.script("shared", name: name).trimmingCharacters(in: .whitespacesAndNewlines)
        guard hosts.count == count else {
            _ = try? Self.script("down", name: name)
            throw TestbedError(code: .failed, message: "scripts/testbed.sh up \(count) listed \(hosts.count) hosts", stderr: "")
        }
        return Testbed(name: name, hosts: hosts, sharedDirectory: shared)
    }

    /// The host named `name` (`host-2`); throws when the testbed has none of that name.
    public func host(_ name: String) throws -> Host {
        guard let host = hosts.first(where: { $0.name == name }) else {
            throw TestbedError(code: .failed, message: "testbed \(self.name) has no host \(name) (it has \(hosts))", stderr: "")
        }
        return host
    }

    /// The testbed's directory in the root namespace; each host's logs are in `hosts/host-N/log`.
    public var directory: String { URL(fileURLWithPath: sharedDirectory).deletingLastPathComponent().path }

    /// Where `host`'s daemons log (libvirtd.log, virtlogd.log, virtlockd.log, reaper.log, and
    /// qemu/<guest>.log).
    public func logDirectory(_ host: Host) -> String { "\(directory)/hosts/\(host.name)/log" }

    /// The names of the testbed's network namespaces (`ip netns list`): one per host and the
    /// controller's, which holds the bridge.
    public var networkNamespaces: [String] { hosts.map { "\(name)-\($0.name)" } + ["\(name)-ctl"] }

    // MARK: Failures on demand

    /// SIGKILLs every process of `host` (daemons and guests) at once, like a power loss; its leases
    /// on the shared storage are free at once. Its namespaces stay, for `reboot`.
    public func kill(_ host: Host) throws { try Self.script("kill", [host.name], name: name) }

    /// SIGSTOPs every process of `host`: a hung host. Calls to it time out (connects too).
    public func freeze(_ host: Host) throws { try Self.script("freeze", [host.name], name: name) }

    /// SIGCONTs every process of a frozen `host`.
    public func thaw(_ host: Host) throws { try Self.script("thaw", [host.name], name: name) }

    /// Cuts `host` off the testbed's network (its bridge port goes down): peers cannot reach it nor
    /// it them. The root namespace still reaches it through `uri` (a Unix socket).
    public func partition(_ host: Host) throws { try Self.script("partition", [host.name], name: name) }

    /// Reconnects a partitioned `host`.
    public func heal(_ host: Host) throws { try Self.script("heal", [host.name], name: name) }

    /// SIGKILL to `host`'s libvirtd alone: its guests keep running, unmanaged until `startLibvirtd`.
    public func killLibvirtd(_ host: Host) throws { try Self.script("libvirtd-kill", [host.name], name: name) }

    /// Sends `signal` to one of `host`'s libvirt daemons (`libvirtd`, `virtlockd`, `virtlogd`),
    /// found by its pid file. SIGSTOP to `virtlockd` hangs libvirtd in the next guest start (the
    /// lock manager waits for it) and every call after it, as a hung libvirtd does; SIGCONT ends it.
    public func signalDaemon(_ host: Host, _ daemon: String, _ signal: Int32) throws {
        let pidFile = "\(directory)/hosts/\(host.name)/run/\(daemon).pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              Glibc.kill(pid, signal) == 0 else {
            throw TestbedError(code: .failed, message: "cannot signal \(daemon) of \(host.name) (pid file \(pidFile))", stderr: "")
        }
    }

    /// Starts `host`'s libvirtd again after `killLibvirtd`; returns once it answers.
    public func startLibvirtd(_ host: Host) throws { try Self.script("libvirtd-start", [host.name], name: name) }

    /// SIGKILL to `host`'s etcd member alone (`restartEtcd` starts it again).
    public func killEtcd(_ host: Host) throws { try Self.script("etcd-kill", [host.name], name: name) }

    /// Drops every etcd packet (ports 2379 and 2380) to and from `host`: its agent and its member
    /// are cut off from etcd while libvirt and migration traffic still flow.
    public func partitionEtcd(_ host: Host) throws { try Self.script("etcd-partition", [host.name], name: name) }

    /// Undoes `partitionEtcd`.
    public func healEtcd(_ host: Host) throws { try Self.script("etcd-heal", [host.name], name: name) }

    /// Kills `host`, forgets its runtime state (so autostart runs again, as after a real boot),
    /// starts its daemons with the same configuration and UUID, and returns once it answers.
    public func reboot(_ host: Host, timeout: TimeInterval = 120) throws {
        try Self.script("reboot", [host.name], name: name, timeout: timeout)
    }

    /// Each host's state as the script sees it: `running`, `killed`, `frozen`, `partitioned`
    /// (comma-separated when several apply).
    public func status() throws -> [String: String] {
        let lines = try Self.script("status", name: name).split(separator: "\n")
        return Dictionary(uniqueKeysWithValues: lines.compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            return fields.count == 2 ? (fields[0], fields[1]) : nil
        })
    }

    /// Tears everything down: processes, namespaces, mounts, directories. Idempotent.
    public func down(timeout: TimeInterval = 60) throws { try Self.script("down", name: name, timeout: timeout) }

    // MARK: Commands on hosts

    /// Runs `virsh -c host.uri arguments...` from the root namespace, killed after `timeout` seconds.
    ///
    /// - Returns: standard output.
    /// - Throws: `TestbedError` (`.timedOut` when virsh was killed) with virsh's stderr.
    @discardableResult
    public func virsh(_ host: Host, _ arguments: [String], timeout: Int = 30) throws -> String {
        let result = try Self.run([try Command.locate("timeout"), "-k", "2", String(timeout), try Command.locate("virsh"),
                                   "-c", host.uri] + arguments, timeout: TimeInterval(timeout + 10))
        return try Self.check(result, "virsh on \(host.name): \(arguments.joined(separator: " "))")
    }

    /// Runs `virsh -c host.peerURI arguments...` inside `peer`'s namespaces, over the testbed
    /// network (what a partition cuts), killed after `timeout` seconds.
    @discardableResult
    public func virsh(_ host: Host, via peer: Host, _ arguments: [String], timeout: Int = 30) throws -> String {
        let result = try exec(peer, ["timeout", "-k", "2", String(timeout), "virsh", "-c", host.peerURI] + arguments,
                              timeout: TimeInterval(timeout + 10))
        return try Self.check(result, "virsh on \(peer.name) to \(host.name): \(arguments.joined(separator: " "))")
    }

    /// Runs `command` inside `host`'s network, mount and UTS namespaces (its hostname, its
    /// /etc/hosts, `qemu:///system` is its libvirtd); never throws for a non-zero status.
    public func exec(_ host: Host, _ command: [String], timeout: TimeInterval = 60) throws -> CommandResult {
        try Self.run(["/bin/bash", Self.scriptPath, "exec", host.name, "--name", name, "--"] + command, timeout: timeout)
    }

    /// The namespaces of the testbed as /proc/PID/ns links name them (`net:[4026532...]`,
    /// `mnt:[...]`), to look for processes left in them after `down`. Valid while the testbed is up.
    public func namespaceIdentities() -> Set<String> {
        var identities = Set<String>()
        func add(_ kind: String, _ path: String) {
            var info = stat()
            if stat(path, &info) == 0 { identities.insert("\(kind):[\(info.st_ino)]") }
        }
        networkNamespaces.forEach { add("net", "/run/netns/\($0)") }
        hosts.forEach { add("mnt", "\(directory)/ns/\($0.name).mnt") }
        return identities
    }

    static func check(_ result: CommandResult, _ what: String) throws -> String {
        switch result.status {
        case 0: return result.stdout
        case 124, 137: throw TestbedError(code: .timedOut, message: "\(what): timed out", stderr: result.stderr)
        default: throw TestbedError(code: .failed, message: "\(what): status \(result.status)", stderr: result.stderr)
        }
    }
}
