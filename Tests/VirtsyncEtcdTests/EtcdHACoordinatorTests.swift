import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncEtcd
import VirtsyncTestSupport
import VirtsyncTesting

/// HA's coordination port over a real single-member etcd on 127.0.0.1: membership on leases,
/// owner records whose epoch is the claim's revision, claims that hold only under the
/// conditions decision record 0008 names, and HA runners failing over through it.
@Suite("HA coordination over a real etcd", .serialized,
       .enabled(if: EtcdServer.executable != nil, "etcd is not installed (apt-get install etcd-server)"))
struct EtcdHACoordinatorTests {
    @available(macOS 15.0, *)
    @Test("join puts the member key on its lease; a first claim wins once and its epoch is the claim's revision")
    func joinAndFirstClaim() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            let a = try await ha.join(host: "a", ttl: .seconds(30))
            let b = try await ha.join(host: "b", ttl: .seconds(30))
            let view = try await ha.view()
            #expect(view.members == ["a": a, "b": b])
            #expect(view.owners.isEmpty)

            let first = HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: a)
            let won = try #require(try await ha.claim(vm: "web", host: "a", first))
            #expect(won.host == "a" && won.lease == a)
            let lost = try await ha.claim(vm: "web", host: "b", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: b))
            #expect(lost == nil, "the record exists: a second first claim must lose")
            let after = try await ha.view()
            #expect(after.owners["web"] == won)
            #expect(after.revision >= won.epoch)
            // The record is readable JSON naming the host and lease; the epoch is its modRevision.
            let raw = try await client.get(prefix: "/vs/owners/web").keyValues
            #expect(raw.first?.modRevision == won.epoch)
            #expect(raw.first?.lease == 0, "owner records outlive leases")
        }
    }

    @available(macOS 15.0, *)
    @Test("a move marks the record (only while the target holds its lease), hands it over with the carried epoch, and status tells a move from a takeover")
    func moveHandover() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            let a = try await ha.join(host: "a", ttl: .seconds(30))
            let b = try await ha.join(host: "b", ttl: .seconds(30))
            let owned = try #require(try await ha.claim(vm: "web", host: "a", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: a)))
            // A target lease that is not b's: refused.
            let wrong = HAClaim(expectedEpoch: owned.epoch, previousOwner: nil, previousLease: nil, lease: a, carried: owned.epoch,
                                moving: HAMove(to: "b", lease: b + 1))
            #expect(try await ha.claim(vm: "web", host: "a", wrong) == nil)
            var begin = wrong
            begin.moving = HAMove(to: "b", lease: b)
            let moving = try #require(try await ha.claim(vm: "web", host: "a", begin))
            #expect(moving.host == "a" && moving.moving == HAMove(to: "b", lease: b) && moving.carried == owned.epoch)
            #expect(try await ha.view().owners["web"] == moving, "read back with the move and the carried epoch")
            #expect(try await ha.details().owners.first?.movingTo == "b")

            let finish = HAClaim(expectedEpoch: moving.epoch, previousOwner: "a", previousLease: nil, lease: b, host: "b", carried: owned.epoch)
            let handed = try #require(try await ha.claim(vm: "web", host: "a", finish))
            #expect(handed.host == "b" && handed.lease == b && handed.moving == nil && handed.epoch > moving.epoch)
            #expect(try await ha.view().owners["web"] == handed)
            let details = try #require(try await ha.details().owners.first)
            #expect(details.moved && details.from == "a" && details.movingTo == nil)

            // A handover to a target whose lease is gone is refused.
            try await client.revoke(lease: b)
            let back = HAClaim(expectedEpoch: handed.epoch, previousOwner: "b", previousLease: nil, lease: b, host: "b")
            #expect(try await ha.claim(vm: "web", host: "a", back) == nil)
        }
    }

    @available(macOS 15.0, *)
    @Test("a join retried with its id lands on the same lease; an id taken, or a member key on another live lease, is refused and changes nothing")
    func joinIsIdempotent() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            try await ha.join(host: "a", lease: 1001, ttl: .seconds(30), retry: false, replacing: nil)
            // The answer was lost: the retry finds lease and key in place.
            try await ha.join(host: "a", lease: 1001, ttl: .seconds(30), retry: true, replacing: nil)
            #expect(try await ha.view().members == ["a": 1001])
            // Another host whose first attempt picks a taken id.
            await #expect(throws: HAJoinError.leaseIDTaken(1001)) {
                try await ha.join(host: "b", lease: 1001, ttl: .seconds(30), retry: false, replacing: nil)
            }
            // An attempt of an older join (or an earlier run of a's agent) arriving late: the key
            // stays on the lease a's agent holds.
            await #expect(throws: HAJoinError.memberKeyHeld(host: "a", lease: 1001)) {
                try await ha.join(host: "a", lease: 977, ttl: .seconds(30), retry: true, replacing: nil)
            }
            #expect(try await ha.view().members == ["a": 1001])
            let raw = try await client.get(prefix: "/vs/members/a").keyValues
            #expect(raw.first?.lease == 1001)
            // A join that replaces a's lease (fenced from, nothing runs) takes the key at once.
            try await ha.join(host: "a", lease: 1002, ttl: .seconds(30), retry: false, replacing: 1001)
            #expect(try await ha.view().members == ["a": 1002])
            #expect(try await client.timeToLive(lease: 1001) == nil, "the old lease is revoked")
        }
    }

    @available(macOS 15.0, *)
    @Test("a takeover loses while the old owner's member key is on its lease, and wins once the lease is gone, with a higher epoch")
    func takeoverNeedsTheOldLeaseGone() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            let a = try await ha.join(host: "a", ttl: .seconds(30))
            let b = try await ha.join(host: "b", ttl: .seconds(30))
            let owned = try #require(try await ha.claim(vm: "web", host: "a", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: a)))
            let takeover = HAClaim(expectedEpoch: owned.epoch, previousOwner: "a", previousLease: a, lease: b)
            #expect(try await ha.claim(vm: "web", host: "b", takeover) == nil, "a still holds its lease")

            try await client.revoke(lease: a)
            let taken = try #require(try await ha.claim(vm: "web", host: "b", takeover))
            #expect(taken.host == "b" && taken.epoch > owned.epoch)
            // The same claim again (a stale view) must lose: the record moved on.
            let c = try await ha.join(host: "c", ttl: .seconds(30))
            #expect(try await ha.claim(vm: "web", host: "c",
                                       HAClaim(expectedEpoch: owned.epoch, previousOwner: "a", previousLease: a, lease: c)) == nil)
            // a came back with a new lease: its member key is on the new lease, which does not
            // revive its old claim.
            let again = try await ha.join(host: "a", ttl: .seconds(30))
            #expect(again != a)
            #expect(try await ha.view().owners["web"]?.host == "b")
        }
    }

    @available(macOS 15.0, *)
    @Test("a claim under a lease the claimant no longer holds loses (its own member key must be on that lease)")
    func claimNeedsOwnLease() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            let old = try await ha.join(host: "a", ttl: .seconds(30))
            try await client.revoke(lease: old)
            #expect(try await ha.claim(vm: "web", host: "a", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: old)) == nil)
            let new = try await ha.join(host: "a", ttl: .seconds(30))
            #expect(try await ha.claim(vm: "web", host: "a", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: old)) == nil,
                    "the member key is on the new lease, not the one claimed under")
            #expect(try await ha.claim(vm: "web", host: "a", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: new)) != nil)
        }
    }

    @available(macOS 15.0, *)
    @Test("changes() hands on a view after every change: a member leaving with its lease, an owner record written")
    func changes() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")
            let a = try await ha.join(host: "a", ttl: .seconds(30))
            let b = try await ha.join(host: "b", ttl: .seconds(30))
            let start = try await ha.view()
            let seen = Task { () -> [HAClusterView] in
                var views: [HAClusterView] = []
                for try await view in ha.changes(after: start.revision) {
                    views.append(view)
                    if view.members["a"] == nil && view.owners["web"] != nil { break }
                }
                return views
            }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await ha.claim(vm: "web", host: "b", HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil, lease: b))
            try await client.revoke(lease: a)
            let outcome = Task {
                try await Task.sleep(for: .seconds(10))
                seen.cancel()
            }
            let views = try await seen.value
            outcome.cancel()
            let last = try #require(views.last)
            #expect(last.members == ["b": b])
            #expect(last.owners["web"]?.host == "b")
            #expect(views.map(\.revision) == views.map(\.revision).sorted(), "revisions only grow")
            // A record no one can read is seen as owned by no live host (so it can be taken over).
            try await client.put(key: "/vs/owners/broken", value: bytes("{not json"))
            #expect(try await ha.view().owners["broken"]?.host == "")
            try await ha.publish(host: "b", vms: ["web", "db"])
            #expect(try await ha.inventories() == ["b": ["web", "db"]])
            let details = try await ha.details()
            #expect(details.members.map(\.host) == ["b"])
            #expect((details.members.first?.secondsLeft ?? 0) > 20)
            #expect(details.owners.first { $0.vm == "web" }?.host == "b")
        }
    }

    // MARK: - Runners over etcd

    /// A coordination port that fails every call while `cut` is set: a host cut off from etcd.
    final class Cuttable: HACoordinator, @unchecked Sendable {
        let base: any HACoordinator
        private let lock = NSLock()
        private var isCut = false
        init(_ base: any HACoordinator) { self.base = base }
        var cut: Bool {
            get { lock.withLock { isCut } }
            set { lock.withLock { isCut = newValue } }
        }
        struct CutOff: Error {}
        func check() throws { if cut { throw CutOff() } }
        func join(host: String, lease: Int64, ttl: Duration, retry: Bool, replacing: Int64?) async throws {
            try check()
            try await base.join(host: host, lease: lease, ttl: ttl, retry: retry, replacing: replacing)
        }
        func renew(lease: Int64) async throws -> Bool { try check(); return try await base.renew(lease: lease) }
        func view() async throws -> HAClusterView { try check(); return try await base.view() }
        func changes(after revision: Int64) -> AsyncThrowingStream<HAClusterView, any Error> {
            let base = base
            return AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        for try await view in base.changes(after: revision) {
                            try self.check()
                            continuation.yield(view)
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                let watcher = Task {
                    while !Task.isCancelled {
                        if self.cut { continuation.finish(throwing: CutOff()); return }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                continuation.onTermination = { _ in task.cancel(); watcher.cancel() }
            }
        }
        func claim(vm: String, host: String, _ claim: HAClaim) async throws -> OwnerRecord? {
            try check()
            return try await base.claim(vm: vm, host: host, claim)
        }
        func leave(lease: Int64) async throws { try check(); try await base.leave(lease: lease) }
        func publish(host: String, vms: Set<String>) async throws { try check(); try await base.publish(host: host, vms: vms) }
        func inventories() async throws -> [String: Set<String>] { try check(); return try await base.inventories() }
    }

    @available(macOS 15.0, *)
    @Test("three runners on one etcd: a cut-off host stops its VMs by its deadline, the others run them after the lease expires, never two copies")
    func runnersFailOver() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let timings = HATimings(leaseTTL: .seconds(3), margin: .seconds(1), guardTime: .milliseconds(500), watchdogTimeout: .seconds(2))
        let hosts = ["a", "b", "c"], vms = ["vm-1", "vm-2", "vm-3"]
        var spec = HASpec(hosts: hosts.map { PlacementHost(name: $0, memory: .gib(8)) },
                          machines: vms.map { HAMachine(request: PlacementRequest(name: $0, rule: PlacementRule(), memory: .gib(1), vcpus: 1, ha: true)) })
        spec.assigned = Dictionary(uniqueKeysWithValues: vms.map { ($0, "a") })
        let journal = ModelJournal()
        try await withEtcdClient(.init(endpoints: [etcd.endpoint], deadline: .milliseconds(800))) { client in
            var ports: [String: Cuttable] = [:]
            var tasks: [Task<Void, Never>] = []
            for host in hosts {
                let port = Cuttable(EtcdHACoordinator(client: client, prefix: "/vs"))
                ports[host] = port
                let runner = HARunner(host: host, timings: timings, spec: spec, resumed: nil, coordinator: port,
                                      domains: ModelDomains(host: host, defined: Set(vms), journal: journal), watchdog: nil,
                                      clock: SystemAgentClock(), persist: { _ in })
                tasks.append(Task { await runner.run() })
            }
            defer { tasks.forEach { $0.cancel() } }
            let ha = EtcdHACoordinator(client: client, prefix: "/vs")

            #expect(try await eventually(within: .seconds(15)) { journal.running == ["vm-1": ["a"], "vm-2": ["a"], "vm-3": ["a"]] })
            let epochs = try await ha.view().owners.mapValues(\.epoch)

            let cutAt = ContinuousClock.now
            ports["a"]?.cut = true
            #expect(try await eventually(within: .seconds(5)) { journal.running.values.allSatisfy { !$0.contains("a") } },
                    "a stops its VMs by its own deadline")
            let fenced = cutAt.duration(to: .now)
            #expect(try await eventually(within: .seconds(15)) {
                let running = journal.running
                return vms.allSatisfy { running[$0]?.count == 1 && running[$0]?.contains("a") == false }
            }, "b and c run a's VMs")
            let recovered = cutAt.duration(to: .now)
            #expect(fenced < timings.leaseTTL, "fenced after \(fenced), before the lease could expire")
            #expect(recovered < .seconds(12), "recovered after \(recovered)")
            #expect(journal.doubles.isEmpty, "two copies ran: \(journal.doubles)")
            let owners = try await ha.view().owners
            for vm in vms {
                #expect(owners[vm].map { $0.host != "a" && $0.epoch > (epochs[vm] ?? .max) } == true, "\(vm): \(String(describing: owners[vm]))")
            }

            // a is reachable again: it joins with a new lease and does not start anything it lost.
            ports["a"]?.cut = false
            try await Task.sleep(for: .seconds(3))
            #expect(try await ha.view().members["a"] != nil)
            #expect(journal.running.values.allSatisfy { !$0.contains("a") })
            #expect(journal.doubles.isEmpty, "two copies ran: \(journal.doubles)")
        }
    }
}

extension HACoordinator {
    /// Joins with a fresh random lease id and returns it.
    func join(host: String, ttl: Duration) async throws -> Int64 {
        var ids = HALeaseIDs()
        let id = ids.next()
        try await join(host: host, lease: id, ttl: ttl, retry: false, replacing: nil)
        return id
    }
}
