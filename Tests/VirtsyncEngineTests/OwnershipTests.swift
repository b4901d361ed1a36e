import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// Plans and applies as one spec source (`owner`) on the shared in-memory host, with the same
/// host inventory as every other source (another state directory, same machine).
private struct Source {
    let harness: Harness
    let owner: String

    func state(_ desired: DesiredState) -> DesiredState {
        var d = desired
        d.owner = owner
        return d
    }

    func plan(_ desired: DesiredState, prune: Bool = true, claimUnowned: Bool = false) async -> Plan {
        let d = state(desired)
        let (sessions, failed) = await harness.reconciler.connect(d)
        return await harness.reconciler.plan(d, sessions: sessions, failed: failed,
                                             options: PlanOptions(prune: prune, claimUnowned: claimUnowned)).0
    }

    @discardableResult
    func apply(_ desired: DesiredState, prune: Bool = true, claimUnowned: Bool = false) async throws -> (Plan, ApplyReport) {
        let outcome = try await harness.workflow.apply(state(desired), options: PlanOptions(prune: prune, claimUnowned: claimUnowned))
        if let refusal = outcome.refusal { throw refusal }
        return (outcome.plan, outcome.report ?? ApplyReport(results: []))
    }
}

/// Team B's spec: one VM, a network and a pool with a volume, none shared with the lab.
private func teamB() -> DesiredState {
    let pool = PoolModel(name: "b-pool", type: .dir, path: "/var/lib/virtsync/pools/b")
    let disk = VolumeModel(pool: "b-pool", name: "b-1.qcow2", capacity: .gib(1), format: .qcow2)
    let net = NetworkModel(name: "b-net", mode: .isolated, ipv4: IPv4Config(address: "10.214.0.1", prefix: 24))
    let vm = DomainModel(name: "b-1", memory: .mib(32), disks: [DiskModel(target: "vda", source: .volume(pool: "b-pool", volume: "b-1.qcow2"))],
                         interfaces: [InterfaceModel(source: .network("b-net"))], power: .running)
    return DesiredState(hosts: [DesiredHost(name: "local", networks: [net], pools: [pool], volumes: [disk], domains: [vm])], specDigest: "digest-b")
}

@Suite("Ownership between spec sources on one host")
struct OwnershipTests {
    @Test("two owners with pruning never touch each other's domains, networks, pools or volumes")
    func twoOwners() async throws {
        let h = try Harness()
        let a = Source(harness: h, owner: "team-a/lab"), b = Source(harness: h, owner: "team-b/lab")
        #expect(try await a.apply(lab()).1.ok)
        #expect(try await b.apply(teamB()).1.ok)
        for (source, spec) in [(a, lab()), (b, teamB())] {
            let plan = await source.plan(spec)
            #expect(plan.steps.isEmpty, "\(source.owner): \(plan.steps.map(\.id))")
            #expect(!plan.notes.contains { $0.severity != .info })
        }
        // A spec of A that names B's VM and network: reported as B's, never changed.
        var clash = lab()
        clash.hosts[0].domains.append(DomainModel(name: "b-1", memory: .mib(64)))
        clash.hosts[0].networks.append(NetworkModel(name: "b-net", mode: .nat))
        let plan = await a.plan(clash)
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
        #expect(plan.notes.contains { $0.message.contains("domain b-1 is owned by team-b/lab") })
        #expect(plan.notes.contains { $0.message.contains("network b-net is owned by team-b/lab") })
        // An empty spec of A with pruning deletes only A's resources.
        var empty = lab()
        empty.hosts[0] = DesiredHost(name: "local")
        let prune = await a.plan(empty)
        #expect(!prune.steps.isEmpty)
        #expect(prune.steps.allSatisfy { !$0.resource.name.hasPrefix("b-") }, "\(prune.steps.map(\.id))")
        try await a.apply(empty)
        let left = h.hypervisor.snapshot
        #expect(left.domains.keys.sorted() == ["b-1"])
        #expect(left.networks.keys.sorted() == ["b-net"])
        #expect(left.pools.keys.sorted() == ["b-pool"])
        #expect(await b.plan(teamB()).steps.isEmpty)
    }

    @Test("the mass-delete guard counts only the resources of the planning owner")
    func massDeleteCountsOwn() async throws {
        let h = try Harness()
        let a = Source(harness: h, owner: "team-a/lab"), b = Source(harness: h, owner: "team-b/lab")
        try await a.apply(lab())
        try await b.apply(teamB())
        var fewer = teamB()
        fewer.hosts[0].domains = []
        let d = b.state(fewer)
        let (sessions, failed) = await h.reconciler.connect(d)
        let (plan, observed) = await h.reconciler.plan(d, sessions: sessions, failed: failed, options: PlanOptions(prune: true))
        // One delete of B's four resources: 25 %, whatever A has.
        #expect(SafetyGuard.managedCount(observed, owner: "team-b/lab") == 4)
        #expect(throws: PlanRefusal.self) { try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: 0.2, allow: false, owner: "team-b/lab") }
        try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: 0.3, allow: false, owner: "team-b/lab")
    }

    @Test("resources written before owners existed are never changed or pruned until claimed, then behave as owned")
    func legacyClaimedExplicitly() async throws {
        let h = try Harness()
        // An earlier virtsync: no owner in the marker, entries in the state directory's old inventory.
        try await Source(harness: h, owner: "ignored").apply(lab())
        h.hypervisor.mutate { host in
            for name in host.domains.keys { host.domains[name]?.marker?.owner = nil }
        }
        var old = Inventory()
        old.hosts["memory:///local"] = try await h.reconciler.inventory.entries(host: "memory:///local")
        try FileManager.default.removeItem(atPath: h.reconciler.inventory.directory)
        try JSONEncoder().encode(old).write(to: URL(fileURLWithPath: h.stateDir + "/inventory.json"))
        let upgraded = try Harness(stateDir: h.stateDir, connector: h.connector)
        let a = Source(harness: upgraded, owner: "team-a/lab")

        let bigger = lab(memory: .mib(96))
        let plan = await a.plan(bigger)
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
        #expect(plan.notes.contains { $0.severity == .warning && $0.message.contains("domain web-1 was written by an earlier virtsync") })
        #expect(plan.notes.contains { $0.message.contains("network labnet was written by an earlier virtsync") })
        var empty = lab()
        empty.hosts[0] = DesiredHost(name: "local")
        #expect(await a.plan(empty).steps.isEmpty)

        // Claimed with --claim-unowned: adopt steps only, then the update comes.
        let claim = await a.plan(bigger, claimUnowned: true)
        #expect(Set(claim.steps.map(\.action)) == [.adopt])
        #expect(claim.steps.count == 6)   // 2 domains, 1 network, 1 pool, 2 volumes
        #expect(try await a.apply(bigger, claimUnowned: true).1.ok)
        let next = await a.plan(bigger)
        #expect(next.steps.map(\.id) == ["update:domain:local/web-1"])
        try await a.apply(bigger)
        #expect(await a.plan(bigger).steps.isEmpty)
        #expect(h.hypervisor.snapshot.domains["web-1"]?.marker?.owner == "team-a/lab")
    }

    @Test("adopt: true takes over an unmanaged resource with one step that changes nothing else; the next plan updates it")
    func adoptUnmanaged() async throws {
        let h = try Harness()
        let hand = DomainModel(name: "legacy-vm", vcpus: 1, maxVcpus: 1, memory: .mib(48), maxMemory: .mib(48), machine: "pc-q35-7.2", power: .running)
        h.hypervisor.mutate { host in
            host.domains["legacy-vm"] = ObservedDomain(model: hand, uuid: "u-legacy", state: .running,
                                                      live: LiveDomainValues(memory: .mib(48), maxMemory: .mib(48), vcpus: 1, maxVcpus: 1))
            host.networks["handnet"] = ObservedNetwork(model: NetworkModel(name: "handnet", mode: .isolated), uuid: "n-hand", active: true)
        }
        let a = Source(harness: h, owner: "team-a/lab")
        var spec = DesiredState(hosts: [DesiredHost(name: "local", networks: [NetworkModel(name: "handnet", mode: .isolated)],
                                                    domains: [hand])], specDigest: "d")
        // Without adopt: reported, never touched.
        let before = await a.plan(spec)
        #expect(before.steps.isEmpty)
        #expect(before.notes.contains { $0.message.contains("domain legacy-vm exists and is not managed by virtsync") })
        spec.adopt = [AdoptKey(.domain, "legacy-vm"), AdoptKey(.network, "handnet")]
        let plan = await a.plan(spec)
        #expect(plan.steps.map(\.id).sorted() == ["adopt:domain:local/legacy-vm", "adopt:network:local/handnet"])
        #expect(plan.steps.allSatisfy { $0.disruption == .none })
        let modelBefore = h.hypervisor.snapshot.domains["legacy-vm"]?.model
        #expect(try await a.apply(spec).1.ok)
        #expect(h.hypervisor.snapshot.domains["legacy-vm"]?.model == modelBefore)
        #expect(h.hypervisor.snapshot.domains["legacy-vm"]?.state == .running)
        #expect(await a.plan(spec).steps.isEmpty)
        // Adopted, it is managed like any other: a change is an update.
        var bigger = spec
        bigger.hosts[0].domains[0].memory = .mib(40)
        #expect(await a.plan(bigger).steps.map(\.id) == ["update:domain:local/legacy-vm"])
        // And another owner cannot adopt it.
        let b = Source(harness: h, owner: "team-b/lab")
        let grab = await b.plan(spec)
        #expect(grab.steps.isEmpty)
        #expect(grab.notes.contains { $0.severity == .error && $0.message.contains("cannot be adopted: it is owned by team-a/lab") })
    }

    @Test("a recreated resource of the same name is not the inventory's: its UUID differs")
    func uuidKeyed() async throws {
        let h = try Harness()
        let a = Source(harness: h, owner: "team-a/lab")
        try await a.apply(lab())
        try await a.apply(lab())   // the read of this pass records each entry's UUID
        h.hypervisor.mutate { host in host.networks["labnet"]?.uuid = "someone-else" }
        let plan = await a.plan(lab())
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.contains { $0.message.contains("network labnet exists and is not managed by virtsync") })
    }
}

@Suite("One writer per host")
struct HostLockTests {
    @Test("a second holder of a host's lock waits, then fails naming the holder; released, it is taken")
    func lockWaitsAndNamesHolder() async throws {
        let dir = NSTemporaryDirectory() + "virtsync-locks-\(UUID().uuidString)"
        let first = try await HostLock.acquire(directory: dir, hostKey: "6695eb01-f6a4-8304-79aa-97f2502e193f",
                                               holder: "virtsync apply, pid 1, owner team-a/lab", timeout: .seconds(1))
        let error = await #expect(throws: EngineError.self) {
            _ = try await HostLock.acquire(directory: dir, hostKey: "6695eb01-f6a4-8304-79aa-97f2502e193f",
                                           holder: "second", timeout: .milliseconds(300))
        }
        #expect(error?.message.contains("virtsync apply, pid 1, owner team-a/lab") == true)
        // Another host is independent.
        let other = try await HostLock.acquire(directory: dir, hostKey: "other-host", holder: "third", timeout: .zero)
        other.release()
        first.release()
        let again = try await HostLock.acquire(directory: dir, hostKey: "6695eb01-f6a4-8304-79aa-97f2502e193f",
                                               holder: "second", timeout: .zero)
        again.release()
    }
}
