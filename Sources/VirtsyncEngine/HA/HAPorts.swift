import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncCore

/// What HA sees of the coordination service at one revision: the live members (host name to the
/// lease its member key is attached to) and the owner records (VM name to record).
public struct HAClusterView: Hashable, Sendable {
    public var revision: Int64
    public var members: [String: Int64]
    public var owners: [String: OwnerRecord]

    public init(revision: Int64, members: [String: Int64] = [:], owners: [String: OwnerRecord] = [:]) {
        self.revision = revision
        self.members = members
        self.owners = owners
    }
}

/// The coordination service as HA needs it: etcd in production (`VirtsyncEtcd`), a model in the
/// simulator and the tests. Every call has a deadline of its own and throws when it cannot be
/// answered; none of them may be retried by the implementation past that deadline.
public protocol HACoordinator: Sendable {
    /// Grants lease `lease` (chosen by the caller) with `ttl`, then puts this host's member key
    /// on it, only if the key is absent or already on `lease`: an attempt of an older join,
    /// arriving late, can never move the key off the lease the agent holds.
    ///
    /// `retry`: an earlier attempt with this id may have been granted, so an existing lease
    /// `lease` is taken as this host's. Otherwise an existing one throws `.leaseIDTaken`.
    /// `replacing`: an older lease of this host to revoke first (its member key goes with it).
    ///
    /// - Throws: `HAJoinError` when etcd answered no; anything else when it did not answer (the
    ///   lease may exist: retry with the same id).
    func join(host: String, lease: Int64, ttl: Duration, retry: Bool, replacing: Int64?) async throws
    /// Renews a lease once; false when the coordination service says it is gone.
    func renew(lease: Int64) async throws -> Bool
    /// The members and owner records now.
    func view() async throws -> HAClusterView
    /// Every later view, one per change, from `revision` on; ends (throws) when the watch
    /// breaks, and the caller reads `view()` again.
    func changes(after revision: Int64) -> AsyncThrowingStream<HAClusterView, any Error>
    /// Writes `vm`'s owner record (`claim.record(claimant: host, …)`) if, and only if, the record
    /// is still at `claim.expectedEpoch` (nil: there is none), every member key of
    /// `claim.attached(claimant: host)` is attached to its lease (the host the record names, and a
    /// move's target), and none of `claim.notAttached` is (the previous owner, a dead target).
    /// Returns the record written (its epoch is the transaction's revision), or nil when the
    /// condition failed.
    func claim(vm: String, host: String, _ claim: HAClaim) async throws -> OwnerRecord?
    /// Gives `lease` back at once (its member key goes with it): a host that stopped its HA VMs
    /// on purpose lets the others take over after the guard instead of after the TTL.
    func leave(lease: Int64) async throws
    /// Records the VMs `host` holds (defined there, or about to be), so the others know what
    /// stays down if it dies: only VMs in no host's record may be placed while it is dead.
    func publish(host: String, vms: Set<String>) async throws
    /// Every host's last published VMs.
    func inventories() async throws -> [String: Set<String>]
}

/// This host's HA VMs in libvirt, as HA needs them. The implementation touches only domains
/// that carry this spec's ownership marker.
public protocol HADomainControl: Sendable {
    /// The state of each of `names` that is defined here (running, and the epoch in its marker).
    func domains(_ names: Set<String>) async throws -> [String: HALocalDomain]
    /// Writes `epoch` into the domain's marker, then starts it (never through autostart).
    func start(vm: String, epoch: Int64) async throws
    /// Stops the domain at once (virDomainDestroy): no shutdown, no waiting for the guest. A
    /// domain that is not running, or not defined, is left as it is.
    func hardStop(vm: String) async throws
    /// Writes `epoch` into the marker of the running domain, live and persistent, without
    /// restarting it.
    func mark(vm: String, epoch: Int64) async throws
    /// Whether the QEMU process of each of `names` runs on this host, read without libvirt (from
    /// its pid files and the process table): asked when libvirt gives no answer. `nil` when this
    /// host cannot tell (a session URI, a remote host).
    func processes(_ names: Set<String>) -> [String: Bool]?
}

extension HADomainControl {
    /// Cannot tell.
    public func processes(_ names: Set<String>) -> [String: Bool]? { nil }
}

/// Why a join was refused.
public enum HAJoinError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A first attempt found its lease id granted already: someone else's lease.
    case leaseIDTaken(Int64)
    /// The member key is on another lease of this host (an earlier run, or a join given up on);
    /// it goes when that lease expires.
    case memberKeyHeld(host: String, lease: Int64)

    public var description: String {
        switch self {
        case .leaseIDTaken(let id): "lease id \(id) is taken"
        case .memberKeyHeld(let host, let lease): "the member key of \(host) is still on lease \(lease); it goes when that lease expires"
        }
    }
}

/// A watchdog the agent pets while its lease is valid (`/dev/watchdog`, or the testbed's
/// emulation of one). If the pets stop, the host is reset.
public protocol HAWatchdog: Sendable {
    func pet() throws
}

/// A monotonic clock shared by every process of the machine: seconds since boot, counting
/// suspended time (`CLOCK_BOOTTIME`), so a deadline persisted by one run of the agent means the
/// same instant to the next.
public enum BootClock {
    /// Time since boot.
    public static func now() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }
}
