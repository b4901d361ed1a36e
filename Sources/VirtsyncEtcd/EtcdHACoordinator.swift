#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VirtsyncCore
import VirtsyncEngine

/// HA's coordination port (`HACoordinator`) over etcd. The keys, under the configured prefix
/// (decision record 0008):
///
/// | key | value | attached to |
/// |---|---|---|
/// | `PREFIX/members/HOST` | `{"host":…,"lease":…,"since":…}` | the host's lease |
/// | `PREFIX/owners/VM` | `{"host":…,"lease":…,"from":…,"at":…}` | nothing |
/// | `PREFIX/hosts/HOST` | `{"vms":[…],"at":…}`: what the host holds, for when it is dead | nothing |
///
/// A member key disappears with its lease; an owner record stays until another host's claim
/// replaces it, and its `modRevision` is the epoch. A claim is one transaction: the record is
/// unchanged since the epoch the claimant saw, the previous owner's member key is no longer on
/// the lease the record names, and the claimant's own member key is still on its lease.
@available(macOS 15.0, *)
public struct EtcdHACoordinator: HACoordinator {
    let client: EtcdClient
    /// The cluster's prefix, with no trailing slash (`/virtsync`).
    public let prefix: String
    let wallClock: @Sendable () -> Date

    public init(client: EtcdClient, prefix: String, wallClock: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.wallClock = wallClock
    }

    var membersPrefix: String { prefix + "/members/" }
    var ownersPrefix: String { prefix + "/owners/" }
    var hostsPrefix: String { prefix + "/hosts/" }

    public func join(host: String, lease: Int64, ttl: Duration, retry: Bool, replacing: Int64?) async throws {
        if let replacing { try await client.revoke(lease: replacing) }
        do {
            try await client.grantLease(id: lease, ttl: ttl, existingIsOurs: retry)
        } catch let error as EtcdError where error.code == .alreadyExists {
            throw HAJoinError.leaseIDTaken(lease)
        }
        // A lease left without its member key (the put below refused, or never sent) holds
        // nothing and expires on its own; it is not revoked, since a retry with the same id may
        // be about to use it.
        let member = MemberValue(host: host, lease: lease, since: wallClock().timeIntervalSince1970)
        switch try await client.putUnlessHeld(key: membersPrefix + host, value: try Self.encode(member), lease: lease) {
        case .written, .alreadyAttached:
            return
        case .held(let other):
            throw HAJoinError.memberKeyHeld(host: host, lease: other)
        }
    }

    public func renew(lease: Int64) async throws -> Bool {
        try await client.keepAlive(lease: lease)
    }

    public func view() async throws -> HAClusterView {
        let (revision, keyValues) = try await client.get(prefix: prefix + "/")
        var state = ViewState()
        for keyValue in keyValues { state.put(keyValue, coordinator: self) }
        return state.view(revision: revision)
    }

    public func changes(after revision: Int64) -> AsyncThrowingStream<HAClusterView, any Error> {
        let client = client, prefix = prefix, coordinator = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    // The view at `revision` is not kept: read it again, hand it on if it moved,
                    // and watch from there, so no change between the two is lost.
                    let (start, keyValues) = try await client.get(prefix: prefix + "/")
                    var state = ViewState()
                    for keyValue in keyValues { state.put(keyValue, coordinator: coordinator) }
                    if start > revision { continuation.yield(state.view(revision: start)) }
                    for try await batch in client.watch(prefix: prefix + "/", fromRevision: start + 1) {
                        var last = start
                        for event in batch {
                            switch event.kind {
                            case .put: state.put(event.keyValue, coordinator: coordinator)
                            case .delete: state.delete(event.keyValue.key, coordinator: coordinator)
                            }
                            last = max(last, event.revision)
                        }
                        continuation.yield(state.view(revision: last))
                    }
                    continuation.finish(throwing: EtcdError(code: .unavailable, message: "the watch ended", operation: "watch \(prefix)/"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func claim(vm: String, host: String, _ claim: HAClaim) async throws -> OwnerRecord? {
        let value = OwnerValue(host: claim.host ?? host, lease: claim.lease, from: claim.previousOwner, at: wallClock().timeIntervalSince1970,
                               carried: claim.carried, movingTo: claim.moving?.to, movingLease: claim.moving?.lease,
                               moved: claim.host != nil ? true : nil)
        // A record without a lease (unreadable, or written by hand) has no member to wait for:
        // `notAttached` leaves out lease 0.
        let membersPrefix = membersPrefix
        let revision = try await client.compareAndPut(
            key: ownersPrefix + vm, expectedModRevision: claim.expectedEpoch,
            attached: Dictionary(uniqueKeysWithValues: claim.attached(claimant: host).map { (membersPrefix + $0.key, $0.value) }),
            notAttached: Dictionary(uniqueKeysWithValues: claim.notAttached.filter { $0.value != 0 }.map { (membersPrefix + $0.key, $0.value) }),
            value: try Self.encode(value))
        return revision.map { claim.record(claimant: host, epoch: $0) }
    }

    public func leave(lease: Int64) async throws {
        try await client.revoke(lease: lease)
    }

    public func publish(host: String, vms: Set<String>) async throws {
        let value = HostValue(vms: vms.sorted(), at: wallClock().timeIntervalSince1970)
        try await client.put(key: hostsPrefix + host, value: try Self.encode(value))
    }

    public func inventories() async throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for keyValue in try await client.get(prefix: hostsPrefix).keyValues {
            let host = String(keyValue.key.dropFirst(hostsPrefix.count))
            // An unreadable record says nothing about what the host held: keep it as holding
            // an unknowable VM, so the host is not mistaken for an empty one.
            let value = try? JSONDecoder().decode(HostValue.self, from: Data(keyValue.value))
            out[host] = value.map { Set($0.vms) } ?? ["?unreadable record"]
        }
        return out
    }

    /// Every owner record with what it says beyond the epoch (where it came from and when), for
    /// `status --cluster`; and the members with the time their lease has left.
    public func details() async throws -> HAClusterDetails {
        let (revision, keyValues) = try await client.get(prefix: prefix + "/")
        var details = HAClusterDetails(revision: revision)
        for keyValue in keyValues {
            if keyValue.key.hasPrefix(membersPrefix) {
                let host = String(keyValue.key.dropFirst(membersPrefix.count))
                let member = try? JSONDecoder().decode(MemberValue.self, from: Data(keyValue.value))
                let left = try? await client.timeToLive(lease: keyValue.lease)
                details.members.append(.init(host: host, lease: keyValue.lease, since: member.map { Date(timeIntervalSince1970: $0.since) },
                                             secondsLeft: left ?? nil))
            } else if keyValue.key.hasPrefix(ownersPrefix) {
                let vm = String(keyValue.key.dropFirst(ownersPrefix.count))
                let owner = try? JSONDecoder().decode(OwnerValue.self, from: Data(keyValue.value))
                details.owners.append(.init(vm: vm, host: owner?.host ?? "", epoch: keyValue.modRevision, lease: owner?.lease ?? 0,
                                            from: owner?.from, at: owner.map { Date(timeIntervalSince1970: $0.at) },
                                            moved: owner?.moved == true, movingTo: owner?.movingTo))
            }
        }
        return details
    }

    // MARK: - Values

    struct MemberValue: Codable {
        var host: String
        var lease: Int64
        var since: Double
    }

    struct HostValue: Codable {
        var vms: [String]
        var at: Double
    }

    struct OwnerValue: Codable {
        var host: String
        var lease: Int64
        var from: String?
        var at: Double
        /// `OwnerRecord.carried`.
        var carried: Int64?
        /// `OwnerRecord.moving`, when a live migration is in flight.
        var movingTo: String?
        var movingLease: Int64?
        /// Handed over by the previous owner with a live migration (`from`), not taken over.
        var moved: Bool?

        var record: (carried: Int64?, moving: HAMove?) {
            (carried, movingTo.flatMap { to in movingLease.map { HAMove(to: to, lease: $0) } })
        }
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    /// The members and owners seen so far, kept up to date by watch events.
    struct ViewState {
        var members: [String: Int64] = [:]
        var owners: [String: OwnerRecord] = [:]

        mutating func put(_ keyValue: EtcdClient.KeyValue, coordinator: EtcdHACoordinator) {
            if keyValue.key.hasPrefix(coordinator.membersPrefix) {
                members[String(keyValue.key.dropFirst(coordinator.membersPrefix.count))] = keyValue.lease
            } else if keyValue.key.hasPrefix(coordinator.ownersPrefix) {
                let vm = String(keyValue.key.dropFirst(coordinator.ownersPrefix.count))
                // An unreadable record names no live host: it is taken over like a dead owner's,
                // by a claim conditional on its epoch, so it cannot block the VM for ever.
                let value = try? JSONDecoder().decode(OwnerValue.self, from: Data(keyValue.value))
                owners[vm] = OwnerRecord(host: value?.host ?? "", epoch: keyValue.modRevision, lease: value?.lease ?? 0,
                                         carried: value?.record.carried, moving: value?.record.moving)
            }
        }

        mutating func delete(_ key: String, coordinator: EtcdHACoordinator) {
            if key.hasPrefix(coordinator.membersPrefix) {
                members[String(key.dropFirst(coordinator.membersPrefix.count))] = nil
            } else if key.hasPrefix(coordinator.ownersPrefix) {
                owners[String(key.dropFirst(coordinator.ownersPrefix.count))] = nil
            }
        }

        func view(revision: Int64) -> HAClusterView {
            HAClusterView(revision: revision, members: members, owners: owners)
        }
    }
}
