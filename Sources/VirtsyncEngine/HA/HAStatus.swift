import Foundation
import VirtsyncCore

/// HA as one agent sees it, in its status (`virtsync status`, `/status`): its lease, the members
/// it sees, the HA VMs it owns, and its last takeovers and stops.
public struct HAStatus: Codable, Sendable, Equatable {
    /// A takeover this host made.
    public struct Failover: Codable, Sendable, Equatable {
        public var vm: String
        public var from: String
        public var epoch: Int64
        /// When the VM ran here (wall clock).
        public var at: Date
        /// From seeing the previous owner's lease gone to the VM running here, in seconds.
        public var seconds: Double

        public init(vm: String, from: String, epoch: Int64, at: Date, seconds: Double) {
            self.vm = vm
            self.from = from
            self.epoch = epoch
            self.at = at
            self.seconds = seconds
        }
    }

    /// A hard stop HA made on this host.
    public struct Stop: Codable, Sendable, Equatable {
        public var vm: String
        public var cause: String
        public var at: Date

        public init(vm: String, cause: String, at: Date) {
            self.vm = vm
            self.cause = cause
            self.at = at
        }
    }

    /// How many failovers and stops are kept.
    public static let kept = 10

    /// The lease this host holds, nil while it holds none.
    public var lease: Int64?
    /// How long the lease is known valid for, in seconds, when the status was written.
    public var leaseValidSeconds: Double?
    /// The hosts with a live member key, as last seen.
    public var members: [String]
    /// The HA VMs whose owner record names this host, with their epochs.
    public var owned: [String: Int64]
    /// Hosts of the spec known dead: their lease expired (they fenced or were reset).
    public var deadHosts: [String]
    /// Newest first.
    public var failovers: [Failover]
    /// Newest first.
    public var stops: [Stop]
    /// Live migrations of HA VMs the plan asked for and HA holds back for now, by VM: why
    /// (a failback waiting for its host to settle, failback off, the target without a lease).
    public var heldMoves: [String: String]?

    public init(lease: Int64? = nil, leaseValidSeconds: Double? = nil, members: [String] = [], owned: [String: Int64] = [:],
                deadHosts: [String] = [], failovers: [Failover] = [], stops: [Stop] = []) {
        self.lease = lease
        self.leaseValidSeconds = leaseValidSeconds
        self.members = members
        self.owned = owned
        self.deadHosts = deadHosts
        self.failovers = failovers
        self.stops = stops
    }

    /// Adds a failover, keeping the newest `kept`.
    public mutating func record(_ failover: Failover) {
        failovers.insert(failover, at: 0)
        if failovers.count > Self.kept { failovers.removeLast(failovers.count - Self.kept) }
    }

    /// Adds a stop, keeping the newest `kept`.
    public mutating func record(_ stop: Stop) {
        stops.insert(stop, at: 0)
        if stops.count > Self.kept { stops.removeLast(stops.count - Self.kept) }
    }
}
