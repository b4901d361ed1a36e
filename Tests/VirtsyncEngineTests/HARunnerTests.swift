import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// The HA runner on three model hosts sharing a model etcd, on a manual clock: the controller's
/// commands really go through the ports, and the journal of the model libvirt sees every start
/// and stop.
@Suite("HA runner")
struct HARunnerTests {
    static let timings = HATimings(leaseTTL: .seconds(3), margin: .seconds(1), guardTime: .milliseconds(500),
                                   watchdogTimeout: .seconds(2))

    final class Watchdog: HAWatchdog, @unchecked Sendable {
        private let lock = NSLock()
        private var pets = 0
        func pet() throws { lock.withLock { pets += 1 } }
        var count: Int { lock.withLock { pets } }
    }

    final class Cluster {
        let clock = ManualClock()
        let journal = ModelJournal()
        let etcd: ModelCoordinator
        let hosts: [String]
        var domains: [String: ModelDomains] = [:]
        var runners: [String: HARunner] = [:]
        var watchdogs: [String: Watchdog] = [:]

        init(hosts: [String], vms: [String]) {
            let clock = self.clock
            etcd = ModelCoordinator(now: { .milliseconds(Int64((clock.now() * 1000).rounded())) })
            self.hosts = hosts
            var spec = HASpec(hosts: hosts.map { PlacementHost(name: $0, memory: .gib(8)) },
                              machines: vms.map { HAMachine(request: PlacementRequest(name: $0, rule: PlacementRule(), memory: .gib(1), vcpus: 1, ha: true)) })
            spec.assigned = Dictionary(uniqueKeysWithValues: vms.map { ($0, hosts[0]) })
            for host in hosts {
                let domains = ModelDomains(host: host, defined: Set(vms), journal: journal)
                let watchdog = Watchdog()
                self.domains[host] = domains
                watchdogs[host] = watchdog
                runners[host] = HARunner(host: host, timings: HARunnerTests.timings, spec: spec, resumed: nil,
                                         coordinator: etcd.client(for: host), domains: domains, watchdog: watchdog, clock: clock,
                                         now: { .milliseconds(Int64((clock.now() * 1000).rounded())) }, persist: { _ in })
            }
        }

        /// Moves the clock in steps of 100 ms for `seconds`, letting every task run after each.
        func run(for seconds: Double, check: () -> Void = {}) async {
            for _ in 0..<Int(seconds * 10) {
                clock.advance(by: 0.1)
                etcd.expireLeases()
                for _ in 0..<20 { await Task.yield() }
                try? await Task.sleep(for: .milliseconds(2))
                check()
            }
        }
    }

    @Test("a cut-off host stops its HA VMs by its own deadline; the others take them over after the lease expires; never two copies")
    func failover() async throws {
        let cluster = Cluster(hosts: ["a", "b", "c"], vms: ["vm-1", "vm-2", "vm-3"])
        let tasks = cluster.runners.values.map { runner in Task { await runner.run() } }
        defer { tasks.forEach { $0.cancel() } }

        await cluster.run(for: 3)
        #expect(cluster.journal.running == ["vm-1": ["a"], "vm-2": ["a"], "vm-3": ["a"]], "assigned to a, claimed and started there")
        #expect(cluster.etcd.snapshot.owners.values.allSatisfy { $0.host == "a" })
        let epochs = cluster.etcd.snapshot.owners.mapValues(\.epoch)

        // a is cut off from etcd (but keeps running, as a partitioned host does).
        cluster.etcd.setCutOff("a", true)
        cluster.etcd.breakWatches()
        let petsBefore = cluster.watchdogs["a"]!.count
        var stoppedAt: Double?
        var takenAt: Double?
        await cluster.run(for: 8) {
            let running = cluster.journal.running
            if stoppedAt == nil, running.values.allSatisfy({ !$0.contains("a") }) { stoppedAt = cluster.clock.now() }
            if takenAt == nil, running.count == 3, running.values.allSatisfy({ !$0.contains("a") }) { takenAt = cluster.clock.now() }
        }
        #expect(cluster.journal.doubles.isEmpty, "two copies at once: \(cluster.journal.doubles)")
        let running = cluster.journal.running
        #expect(running.count == 3 && running.values.allSatisfy { $0.count == 1 && !$0.contains("a") }, "\(running)")
        let stopped = try #require(stoppedAt)
        let taken = try #require(takenAt)
        #expect(stopped < taken, "fence before takeover")
        // The watchdog on a is no longer petted once its lease may be gone.
        let petsAfterFence = cluster.watchdogs["a"]!.count
        await cluster.run(for: 1)
        #expect(cluster.watchdogs["a"]!.count == petsAfterFence && petsAfterFence > petsBefore)
        // New owners, with higher epochs.
        for (vm, record) in cluster.etcd.snapshot.owners {
            #expect(record.host != "a")
            #expect(record.epoch > epochs[vm]!)
        }

        // a comes back: it rejoins with a new lease and starts nothing it does not own.
        cluster.etcd.setCutOff("a", false)
        await cluster.run(for: 4)
        #expect(cluster.journal.doubles.isEmpty)
        #expect(cluster.etcd.snapshot.members["a"] != nil)
        #expect(cluster.journal.running.values.allSatisfy { !$0.contains("a") })
    }

    @Test("a rebooted host with a stale copy stops it instead of running it")
    func staleCopyAfterReboot() async throws {
        let cluster = Cluster(hosts: ["a", "b"], vms: ["vm-1"])
        let runnerB = cluster.runners["b"]!
        let b = Task { await runnerB.run() }
        defer { b.cancel() }
        await cluster.run(for: 1)
        // b owns vm-1 (claimed through its own runner as the spec assigns it to a, which is down).
        // Make b the owner directly: a's runner is not started yet.
        _ = try await cluster.etcd.client(for: "b").claim(vm: "vm-1", host: "b",
                                                          HAClaim(expectedEpoch: nil, previousOwner: nil, previousLease: nil,
                                                                  lease: cluster.etcd.snapshot.members["b"]!))
        await cluster.run(for: 1)
        #expect(cluster.journal.running == ["vm-1": ["b"]])
        // a boots with an old copy running (epoch 1), then its agent starts.
        cluster.domains["a"]!.setRunning("vm-1", epoch: 1)
        let runnerA = cluster.runners["a"]!
        let a = Task { await runnerA.run() }
        defer { a.cancel() }
        await cluster.run(for: 2)
        #expect(cluster.journal.running == ["vm-1": ["b"]])
        // The only double run is the one the test made itself, stopped at once.
        #expect(cluster.journal.doubles.count == 1)
    }
}
