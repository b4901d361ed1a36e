import Foundation
import VirtsyncEngine

extension StatusText {
    /// The HA part of `virtsync status`: this host's lease, the HA VMs it owns, its last
    /// takeovers and stops.
    public static func renderHA(_ ha: HAStatus) -> String {
        var out = "HA:\n"
        if let lease = ha.lease {
            out += "  lease \(lease), valid for \(String(format: "%.1f", ha.leaseValidSeconds ?? 0))s more by this host's deadline\n"
        } else {
            out += "  NO LEASE: this host runs no HA VM until it holds one (etcd unreachable or without quorum)\n"
        }
        out += "  members: " + (ha.members.isEmpty ? "none seen" : ha.members.joined(separator: ", ")) + "\n"
        if !ha.deadHosts.isEmpty { out += "  known dead (lease expired): \(ha.deadHosts.joined(separator: ", "))\n" }
        out += "  owned here: " + (ha.owned.isEmpty ? "none" : ha.owned.sorted { $0.key < $1.key }.map { "\($0.key) (epoch \($0.value))" }.joined(separator: ", ")) + "\n"
        if !ha.failovers.isEmpty {
            out += "  last takeovers (newest first):\n"
            for failover in ha.failovers {
                out += "    \(failover.vm) from \(failover.from), epoch \(failover.epoch), running \(String(format: "%.2f", failover.seconds))s after the lease was seen gone, at \(time(failover.at))\n"
            }
        }
        if let held = ha.heldMoves, !held.isEmpty {
            out += "  moves held back:\n"
            for (vm, why) in held.sorted(by: { $0.key < $1.key }) { out += "    \(vm): \(why)\n" }
        }
        if !ha.stops.isEmpty {
            out += "  last HA stops (newest first):\n"
            for stop in ha.stops { out += "    \(stop.vm): \(stop.cause) at \(time(stop.at))\n" }
        }
        return out
    }

    /// `virtsync status --cluster`: the members with their leases, every HA VM's owner and
    /// epoch, the spec hosts without a member, and this host's own HA status when known.
    public static func renderCluster(_ details: HAClusterDetails, endpoints: [String], prefix: String, local: AgentStatus?) -> String {
        var out = "HA cluster: etcd \(endpoints.joined(separator: ", ")), prefix \(prefix), revision \(details.revision)\n"
        out += "Decisions: conditional claims in etcd, no leader (every host computes the same placement; one claim wins).\n"
        out += "\nMembers (hosts holding a lease):\n"
        if details.members.isEmpty { out += "  none: no agent holds a lease\n" }
        for member in details.members.sorted(by: { $0.host < $1.host }) {
            out += "  " + pad(member.host, 16) + pad("lease \(member.lease)", 28)
                + pad(member.secondsLeft.map { "\($0)s left" } ?? "expiring", 12)
                + (member.since.map { "since \(time($0))" } ?? "") + "\n"
        }
        let live = Set(details.members.map(\.host))
        out += "\nHA VMs (owner records):\n"
        if details.owners.isEmpty { out += "  none claimed yet\n" }
        for owner in details.owners.sorted(by: { $0.vm < $1.vm }) {
            let state = owner.host.isEmpty ? "unreadable record" : live.contains(owner.host) ? "owner live" : "OWNER HAS NO LEASE (taken over after the guard)"
            let origin = owner.from.map { owner.moved ? "moved from \($0) by live migration" : "taken over from \($0)" } ?? "first claim"
            out += "  " + pad(owner.vm, 24) + pad(owner.host.isEmpty ? "-" : owner.host, 16) + pad("epoch \(owner.epoch)", 14)
                + pad(state, 20) + origin + (owner.at.map { " at \(time($0))" } ?? "")
                + (owner.movingTo.map { ", MOVING to \($0) now" } ?? "") + "\n"
        }
        if let local, let ha = local.ha {
            out += "\nThis host (\(local.host)):\n" + renderHA(ha).split(separator: "\n").dropFirst().map { "\($0)\n" }.joined()
        }
        return out
    }
}
