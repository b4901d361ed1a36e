import Foundation

/// An etcd cluster across the testbed, for HA tests: one member per host, inside the host's
/// namespaces (scripts/testbed.sh `etcd-up`), so that `kill`, `freeze`, `partition` and `reboot`
/// of a host do to its member what they do to its libvirtd.
///
/// The root namespace cannot reach the members (their addresses live on the testbed's bridge):
/// talk to them from inside a host with `etcdctl(via:_:)`, or run a client there with `spawn`.
extension Testbed {
    /// Where etcd members take client requests.
    public static let etcdClientPort = 2379

    /// `host`'s member as its clients name it: `http://ADDRESS:2379`.
    public func etcdEndpoint(_ host: Host) -> String { "http://\(host.address):\(Self.etcdClientPort)" }

    /// Every member's client URL, `host-1` first: what an agent's `ha.etcd.endpoints` lists.
    public var etcdEndpoints: [String] { hosts.map(etcdEndpoint) }

    /// Starts a member on every host that does not run one (on a first call: a new cluster named
    /// after the testbed; later: the members of killed or rebooted hosts, with their data) and
    /// returns once every member is healthy (a linearizable read answers through it).
    ///
    /// - Parameters:
    ///   - electionTimeout: etcd's election timeout in milliseconds (its heartbeat a tenth of it),
    ///     kept for members started again later; nil: etcd's defaults (1000 ms, 100 ms), or what
    ///     `VIRTSYNC_TESTBED_ETCD_ELECTION_MS` in the environment says.
    /// - Returns: the client URLs, `host-1` first.
    /// - Throws: `TestbedError` (`.unavailable` when etcd is not installed, `.failed` when a
    ///   member did not become healthy within the script's deadline: its etcd.log is quoted).
    @discardableResult
    public func startEtcd(electionTimeout: Int? = nil, timeout: TimeInterval = 120) throws -> [String] {
        let timings = electionTimeout.map {
            ["VIRTSYNC_TESTBED_ETCD_ELECTION_MS": String($0), "VIRTSYNC_TESTBED_ETCD_HEARTBEAT_MS": String($0 / 10)]
        } ?? [:]
        return Self.endpoints(try Self.script("etcd-up", name: name, timeout: timeout, environment: timings))
    }

    /// Starts `host`'s member again after a `kill` or `reboot` (with its data directory: it rejoins
    /// the cluster and catches up) and returns once it is healthy; a member still running is left
    /// alone. Needs a quorum of the others.
    @discardableResult
    public func restartEtcd(_ host: Host, timeout: TimeInterval = 120) throws -> [String] {
        Self.endpoints(try Self.script("etcd-start", [host.name], name: name, timeout: timeout))
    }

    /// Runs `etcdctl --endpoints ENDPOINTS arguments...` inside `host` (over the testbed network,
    /// what a partition cuts), with `--command-timeout` `timeout` and killed 2 s after it.
    ///
    /// - Parameters:
    ///   - endpoints: the members to ask; by default `host`'s own member only, so a read "via" a
    ///     host is served by that host's member.
    /// - Returns: etcdctl's standard output.
    /// - Throws: `TestbedError` (`.failed`, with etcdctl's stderr, when it fails or its command
    ///   times out; `.timedOut` when it had to be killed).
    @discardableResult
    public func etcdctl(via host: Host, _ arguments: [String], endpoints: [String]? = nil,
                        timeout: TimeInterval = 5) throws -> String {
        let seconds = String(format: "%.3f", timeout)
        let command = ["timeout", "-k", "1", String(format: "%.3f", timeout + 2), "etcdctl",
                       "--endpoints", (endpoints ?? [etcdEndpoint(host)]).joined(separator: ","),
                       "--dial-timeout", "\(min(timeout, 2))s", "--command-timeout", "\(seconds)s"] + arguments
        let result = try exec(host, command, timeout: timeout + 20)
        return try Self.check(result, "etcdctl on \(host.name): \(arguments.joined(separator: " "))")
    }

    /// The endpoints line `etcd-up` and `etcd-start` print last.
    private static func endpoints(_ output: String) -> [String] {
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        return line.split(separator: ",").map(String.init)
    }
}
