import Foundation

/// The coordination service's HA records in full, for people (`virtsync status --cluster`): the
/// members with their leases and the time those have left, and every owner record with where it
/// came from and when it was written.
public struct HAClusterDetails: Hashable, Sendable, Codable {
    public struct Member: Hashable, Sendable, Codable {
        public var host: String
        public var lease: Int64
        /// When the member joined (its key was written), by the member's wall clock.
        public var since: Date?
        /// What etcd says the lease has left, in seconds; nil when it could not say.
        public var secondsLeft: Int64?

        public init(host: String, lease: Int64, since: Date?, secondsLeft: Int64?) {
            self.host = host
            self.lease = lease
            self.since = since
            self.secondsLeft = secondsLeft
        }
    }

    public struct Owner: Hashable, Sendable, Codable {
        public var vm: String
        public var host: String
        public var epoch: Int64
        public var lease: Int64
        /// The previous owner, for a takeover or a move; nil for a first claim.
        public var from: String?
        /// When the claim was written, by the claimant's wall clock.
        public var at: Date?
        /// The record was handed over by its previous owner with a live migration (not a takeover).
        public var moved: Bool
        /// A live migration in flight, to this host.
        public var movingTo: String?

        public init(vm: String, host: String, epoch: Int64, lease: Int64, from: String?, at: Date?, moved: Bool = false,
                    movingTo: String? = nil) {
            self.vm = vm
            self.host = host
            self.epoch = epoch
            self.lease = lease
            self.from = from
            self.at = at
            self.moved = moved
            self.movingTo = movingTo
        }
    }

    public var revision: Int64
    public var members: [Member]
    public var owners: [Owner]

    public init(revision: Int64, members: [Member] = [], owners: [Owner] = []) {
        self.revision = revision
        self.members = members
        self.owners = owners
    }
}
