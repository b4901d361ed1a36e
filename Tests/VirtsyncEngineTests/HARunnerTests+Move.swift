import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// Live migrations of HA VMs through the runner, on model hosts: the owner record follows the
/// VM, and a move that failed, or whose outcome could not be recorded, settles with one copy.
@Suite("HA runner: moves")
struct HARunnerMoveTests {
    typealias Cluster = HARunnerTests.Cluster

    /// A cluster with `vm-1` running on `a` under its owner record.
    static func started() async -> (Cluster, [Task<Void, Never>]) {
        let cluster = Cluster(hosts: ["a", "b", "c"], vms: ["vm-1"])
        let tasks = cluster.runners.values.map { runner in Task { await runner.run() } }
        await cluster.run(for: 3)
        return (cluster, tasks)
    }

    @Test("a live migration hands the owner record to the target with a higher epoch; the copy keeps running and gets the new epoch")
    func handover() async throws {
        let (cluster, tasks) = await Self.started()
        defer { tasks.forEach { $0.cancel() } }
        #expect(cluster.journal.running == ["vm-1": ["a"]])
        let before = try #require(cluster.etcd.snapshot.owners["vm-1"])
        let a = cluster.runners["a"]!, b = cluster.domains["b"]!, source = cluster.domains["a"]!
        try await a.move("vm-1", to: "b") { try source.migrate("vm-1", to: b) }
        let after = try #require(cluster.etcd.snapshot.owners["vm-1"])
        #expect(after.host == "b" && after.epoch > before.epoch && after.moving == nil && after.carried == before.epoch)
        await cluster.run(for: 2)
        #expect(cluster.journal.running == ["vm-1": ["b"]])
        #expect(cluster.journal.doubles.isEmpty, "\(cluster.journal.doubles)")
        #expect(b.runningNow["vm-1"] == after.epoch, "the new owner wrote its epoch into the marker")
        #expect(await cluster.runners["b"]!.state.local["vm-1"] == HALocalDomain(running: true, epoch: after.epoch))
    }

    @Test("a failed migration leaves the VM running on its owner, with the record taken back")
    func failedMigration() async throws {
        let (cluster, tasks) = await Self.started()
        defer { tasks.forEach { $0.cancel() } }
        let a = cluster.runners["a"]!, b = cluster.domains["b"]!, source = cluster.domains["a"]!
        await #expect(throws: ModelCoordinatorError.self) {
            try await a.move("vm-1", to: "b") { try source.migrate("vm-1", to: b, fails: true) }
        }
        let record = try #require(cluster.etcd.snapshot.owners["vm-1"])
        #expect(record.host == "a" && record.moving == nil)
        await cluster.run(for: 2)
        #expect(cluster.journal.running == ["vm-1": ["a"]] && cluster.journal.doubles.isEmpty)
    }

    @Test("a move to a host without a lease is refused before anything changes")
    func refusedTarget() async throws {
        let (cluster, tasks) = await Self.started()
        defer { tasks.forEach { $0.cancel() } }
        let a = cluster.runners["a"]!
        let before = cluster.etcd.snapshot.owners["vm-1"]
        await #expect(throws: HAMoveRefusal.self) {
            try await a.move("vm-1", to: "nowhere") { Issue.record("must not migrate") }
        }
        #expect(cluster.etcd.snapshot.owners["vm-1"] == before)
    }

    @Test("etcd cut off right after the migration: the outcome is settled later by the owner, and the VM never runs twice")
    func unrecordedOutcome() async throws {
        let (cluster, tasks) = await Self.started()
        defer { tasks.forEach { $0.cancel() } }
        let a = cluster.runners["a"]!, b = cluster.domains["b"]!, source = cluster.domains["a"]!
        let etcd = cluster.etcd
        try await a.move("vm-1", to: "b") {
            try source.migrate("vm-1", to: b)
            // The handover cannot be written: a is cut off for a moment.
            etcd.setCutOff("a", true)
        }
        #expect(cluster.etcd.snapshot.owners["vm-1"]?.moving != nil, "the record still says moving")
        cluster.etcd.setCutOff("a", false)
        await cluster.run(for: 2)
        let record = try #require(cluster.etcd.snapshot.owners["vm-1"])
        #expect(record.host == "b" && record.moving == nil)
        #expect(cluster.journal.running == ["vm-1": ["b"]])
        #expect(cluster.journal.doubles.isEmpty, "\(cluster.journal.doubles)")
    }

    @Test("the owner dies right after the migration: the target keeps the copy that arrived and takes the record; nothing runs twice")
    func ownerDiesAfterMigration() async throws {
        let (cluster, tasks) = await Self.started()
        defer { tasks.forEach { $0.cancel() } }
        let a = cluster.runners["a"]!, b = cluster.domains["b"]!, source = cluster.domains["a"]!
        let etcd = cluster.etcd
        try await a.move("vm-1", to: "b") {
            try source.migrate("vm-1", to: b)
            etcd.setCutOff("a", true)
        }
        etcd.breakWatches()
        // a stays cut off: its lease expires, the target takes over.
        await cluster.run(for: 6)
        let record = try #require(cluster.etcd.snapshot.owners["vm-1"])
        #expect(record.host == "b" && record.moving == nil)
        #expect(cluster.journal.running == ["vm-1": ["b"]], "kept, not restarted elsewhere")
        #expect(cluster.journal.doubles.isEmpty, "\(cluster.journal.doubles)")
    }
}
