import Foundation
import Testing
import VirtsyncEtcd
import VirtsyncTestSupport

/// The adapter against a real single-member etcd on 127.0.0.1, one etcd per test. Serialized: the
/// lease timings are real seconds and the machine is shared.
@Suite("etcd client against a real etcd", .serialized,
       .enabled(if: EtcdServer.executable != nil, "etcd is not installed (apt-get install etcd-server)"))
struct EtcdClientTests {
    @available(macOS 15.0, *)
    @Test("a lease not kept alive expires with its key, and keepAlive then reports it gone")
    func leaseExpiry() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let lease = try await client.grantLease(ttl: .seconds(2))
            // Counted from the renewal's send: the leader renews on receipt, before the answer
            // comes back (measured from the answer, CI once saw 1.981 s).
            let renewed = ContinuousClock.now
            #expect(try await client.keepAlive(lease: lease))
            try await client.put(key: "/t/members/a", value: bytes("a"), lease: lease)
            let listed = try await client.get(prefix: "/t/members/")
            #expect(listed.keyValues.map(\.key) == ["/t/members/a"])
            #expect(listed.keyValues.first?.lease == lease)

            let gone = try await eventually(within: .seconds(10)) {
                try await client.get(prefix: "/t/members/").keyValues.isEmpty
            }
            let lifetime = renewed.duration(to: .now)
            #expect(gone)
            // Never before the TTL counted from the last renewal's send; etcd checks expiry every 0.5 s.
            #expect(lifetime >= .seconds(2) && lifetime < .seconds(5), "expired after \(lifetime)")
            #expect(try await client.keepAlive(lease: lease) == false)
        }
    }

    @available(macOS 15.0, *)
    @Test("a lease kept alive outlives its TTL; a revoked one takes its keys with it")
    func keepAliveAndRevoke() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let lease = try await client.grantLease(ttl: .seconds(2))
            try await client.put(key: "/t/members/a", value: bytes("a"), lease: lease)
            for _ in 0..<6 {
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await client.keepAlive(lease: lease))
            }
            #expect(try await client.get(prefix: "/t/members/").keyValues.count == 1)
            try await client.revoke(lease: lease)
            #expect(try await client.get(prefix: "/t/members/").keyValues.isEmpty)
            #expect(try await client.keepAlive(lease: lease) == false)
            try await client.revoke(lease: lease) // already gone: still fine
        }
    }

    @available(macOS 15.0, *)
    @Test("get(prefix:) returns the keys under the prefix only, with their revisions and lease")
    func getPrefix() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let lease = try await client.grantLease(ttl: .seconds(30))
            let first = try await client.put(key: "/t/a", value: bytes("1"))
            let second = try await client.put(key: "/t/b", value: bytes("2"), lease: lease)
            try await client.put(key: "/t0", value: bytes("outside"))
            try await client.put(key: "/s/a", value: bytes("outside"))
            let third = try await client.put(key: "/t/a", value: bytes("3"))
            let listed = try await client.get(prefix: "/t/")
            #expect(listed.revision >= third)
            #expect(listed.keyValues == [
                EtcdClient.KeyValue(key: "/t/a", value: bytes("3"), createRevision: first, modRevision: third, lease: 0),
                EtcdClient.KeyValue(key: "/t/b", value: bytes("2"), createRevision: second, modRevision: second, lease: lease),
            ])
            #expect(try await client.get(prefix: "").keyValues.count == 4)
            let deleted = try await client.delete(key: "/t/a")
            #expect(deleted > listed.revision)
            #expect(try await client.get(prefix: "/t/").keyValues.map(\.key) == ["/t/b"])
        }
    }

    @available(macOS 15.0, *)
    @Test("compareAndPut with no expected revision creates the key once and loses the second time")
    func createIfAbsent() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let won = try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: nil, value: bytes("host-a"))
            let lost = try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: nil, value: bytes("host-b"))
            #expect(won != nil)
            #expect(lost == nil)
            let record = try #require(try await client.get(prefix: "/t/owners/web").keyValues.first)
            #expect(record.value == bytes("host-a"))
            #expect(record.modRevision == won)
        }
    }

    @available(macOS 15.0, *)
    @Test("compareAndPut with a stale modRevision loses; with the current one it wins")
    func staleRevision() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let old = try await client.put(key: "/t/owners/web", value: bytes("host-a"))
            let current = try await client.put(key: "/t/owners/web", value: bytes("host-b"))
            #expect(try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: old, value: bytes("host-c")) == nil)
            let won = try #require(try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: current,
                                                                  value: bytes("host-c")))
            #expect(won > current)
            #expect(try await client.get(prefix: "/t/owners/web").keyValues.first?.value == bytes("host-c"))
        }
    }

    @available(macOS 15.0, *)
    @Test("a claim fails while the old owner's member key holds the old lease, and wins once that lease is revoked")
    func memberLeaseCondition() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let oldLease = try await client.grantLease(ttl: .seconds(30))
            try await client.put(key: "/t/members/host-a", value: bytes("a"), lease: oldLease)
            let owned = try #require(try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: nil,
                                                                    value: bytes("host-a \(oldLease)")))
            func claim() async throws -> Int64? {
                try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: owned,
                                               alsoRequireKey: "/t/members/host-a", notAttachedTo: oldLease,
                                               value: bytes("host-b"))
            }
            #expect(try await claim() == nil)
            try await client.revoke(lease: oldLease)
            let won = try #require(try await claim())
            #expect(won > owned)
            #expect(try await client.get(prefix: "/t/owners/web").keyValues.first?.value == bytes("host-b"))
        }
    }

    @available(macOS 15.0, *)
    @Test("the member-key condition needs its lease, and the lease its key")
    func memberConditionHalfGiven() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            let error = await #expect(throws: EtcdError.self) {
                try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: nil,
                                               alsoRequireKey: "/t/members/a", value: bytes("x"))
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @available(macOS 15.0, *)
    @Test("the revisions of successive successful claims strictly grow and are the records' modRevision")
    func epochsGrow() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            var epochs: [Int64] = []
            var expected: Int64? = nil
            for host in ["a", "b", "c", "d", "e"] {
                try await client.put(key: "/t/unrelated", value: bytes(host)) // other writes in between
                let epoch = try #require(try await client.compareAndPut(key: "/t/owners/web", expectedModRevision: expected,
                                                                        value: bytes(host)))
                #expect(try await client.get(prefix: "/t/owners/web").keyValues.first?.modRevision == epoch)
                epochs.append(epoch)
                expected = epoch
            }
            #expect(zip(epochs, epochs.dropFirst()).allSatisfy { $0 < $1 }, "\(epochs)")
        }
    }

    @available(macOS 15.0, *)
    @Test("a watch from a listing's revision sees puts and deletes, a lease expiry's delete included")
    func watchPutsAndDeletes() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            try await client.put(key: "/t/before", value: bytes("old"))
            let listed = try await client.get(prefix: "/t/")
            let stream = client.watch(prefix: "/t/", fromRevision: listed.revision + 1)
            try await client.put(key: "/t0/outside", value: bytes("not watched"))
            let lease = try await client.grantLease(ttl: .seconds(2))
            let putA = try await client.put(key: "/t/a", value: bytes("1"))
            let putB = try await client.put(key: "/t/b", value: bytes("2"), lease: lease)
            let deleteA = try await client.delete(key: "/t/a")

            let events = try await collect(stream, count: 4, within: .seconds(15))
            try #require(events.count == 4, "\(events)")
            #expect(events[0] == .init(kind: .put, keyValue: .init(key: "/t/a", value: bytes("1"), createRevision: putA,
                                                                   modRevision: putA, lease: 0)))
            #expect(events[1] == .init(kind: .put, keyValue: .init(key: "/t/b", value: bytes("2"), createRevision: putB,
                                                                   modRevision: putB, lease: lease)))
            #expect(events[2].kind == .delete && events[2].keyValue.key == "/t/a" && events[2].revision == deleteA)
            // The expiry of the lease deletes /t/b.
            #expect(events[3].kind == .delete && events[3].keyValue.key == "/t/b" && events[3].revision > deleteA)
        }
    }

    @available(macOS 15.0, *)
    @Test("a watch from a compacted revision ends with .compacted",
          .enabled(if: (try? Command.locate("etcdctl")) != nil, "etcdctl is not installed (apt-get install etcd-client)"))
    func watchCompacted() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        try await withEtcdClient(.init(endpoints: [etcd.endpoint])) { client in
            var last: Int64 = 0
            for value in 0..<5 { last = try await client.put(key: "/t/a", value: bytes("\(value)")) }
            try await Command.check("etcdctl", ["--endpoints", etcd.endpoint, "compaction", "\(last)"],
                                    environment: ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"])
            let error = await #expect(throws: EtcdError.self) {
                _ = try await collect(client.watch(prefix: "/t/", fromRevision: 2), count: 1, within: .seconds(10))
            }
            #expect(error?.code == .compacted)
        }
    }
}
