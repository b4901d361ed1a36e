import Testing
import VirtsyncCore

private typealias L = PlacementLab

@Suite("placement")
struct PlacementTests {
    // MARK: new VMs and the least loaded host

    @Test("new VMs spread over the least loaded hosts, ties going to the first host by name")
    func newVMsSpread() {
        let input = PlacementInput(hosts: [L.host("host-c"), L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("vm-1"), L.vm("vm-2"), L.vm("vm-3"), L.vm("vm-4")])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["vm-1": "host-a new", "vm-2": "host-b new", "vm-3": "host-c new", "vm-4": "host-a new"])
        #expect(result.unplaced.isEmpty && result.unknown.isEmpty && result.stuck.isEmpty)
    }

    @Test("least loaded means the lowest share of declared memory, not the fewest bytes")
    func leastLoadedByShare() {
        // host-a: 2 of 4GiB used (50%); host-b: 4 of 16GiB used (25%).
        let input = PlacementInput(
            hosts: [L.host("host-a", memory: .gib(4)), L.host("host-b", memory: .gib(16))],
            requests: [L.vm("a", memory: .gib(2), pinned: "host-a"), L.vm("b", memory: .gib(4), pinned: "host-b"), L.vm("new")])
        #expect(Placement.place(input).decisions["new"]?.host == "host-b")
    }

    @Test("without declared memory, hosts compare by decided memory in bytes")
    func leastLoadedByBytes() {
        let input = PlacementInput(
            hosts: [L.host("host-a", memory: nil), L.host("host-b", memory: .gib(64))],
            requests: [L.vm("a", memory: .gib(2), pinned: "host-a"), L.vm("b", memory: .gib(3), pinned: "host-b"), L.vm("new")])
        #expect(Placement.place(input).decisions["new"]?.host == "host-a")
    }

    // MARK: pinned VMs

    @Test("a pinned VM goes to its host even beyond capacity and without the labels it asks for")
    func pinnedWins() {
        let input = PlacementInput(
            hosts: [L.host("host-a", memory: .gib(1)), L.host("host-b")],
            requests: [L.vm("big", memory: .gib(4), pinned: "host-a", labels: ["zone": "z"]),
                       L.vm("other", pinned: "host-a")],
            current: ["big": CurrentPlacement(host: "host-b")])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["big": "host-a pinned", "other": "host-a pinned"])
    }

    @Test("a pinned VM leaves its host in maintenance, then comes back when the mark is removed")
    func pinnedMaintenanceMigrate() {
        var input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("db", pinned: "host-b"), L.vm("filler", pinned: "host-a")])
        input.current = L.observed(after: Placement.place(input))
        #expect(input.current["db"]?.host == "host-b")

        input.hosts[1].maintenance = true
        let drained = Placement.place(input)
        #expect(L.summary(drained)["db"] == "host-c evacuated from host-b")
        input.current = L.observed(after: drained)
        #expect(L.summary(Placement.place(input))["db"] == "host-c evacuated from host-b", "it stays away while marked")

        input.hosts[1].maintenance = false
        #expect(L.summary(Placement.place(input))["db"] == "host-b pinned")
    }

    @Test("a pinned VM with policy shutdown stays on its host in maintenance, shut down")
    func pinnedMaintenanceShutdown() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b")],
                                   requests: [L.vm("db", pinned: "host-a", onMaintenance: .shutdown)],
                                   current: ["db": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["db": "host-a shutDownForMaintenance"])
    }

    @Test("a VM pinned to a host the spec does not have is unplaced, saying so")
    func pinnedToMissingHost() {
        let input = PlacementInput(hosts: [L.host("host-a")], requests: [L.vm("db", pinned: "host-z")])
        let result = Placement.place(input)
        #expect(result.decisions.isEmpty)
        #expect(result.unplaced == ["db": "pinned to host-z, which is not in the spec"])
    }

    // MARK: determinism

    /// A cluster that exercises every rule at once.
    static let busy = PlacementInput(
        hosts: [L.host("host-a", cpus: 8, labels: ["zone": "a"], networks: ["lan"], pools: ["ssd"]),
                L.host("host-b", memory: .gib(6), labels: ["zone": "b"], maintenance: true, networks: ["lan"]),
                L.host("host-c", memory: .gib(12), labels: ["zone": "b"], networks: ["lan", "dmz"], pools: ["ssd"]),
                L.host("host-d", memory: .gib(4), cpus: 4, networks: ["lan"]),
                L.host("host-e", labels: ["zone": "a"], networks: ["dmz"])],
        requests: [L.vm("web-1", memory: .gib(2), antiAffinity: ["web-2", "web-3"], networks: ["lan"]),
                   L.vm("web-2", memory: .gib(2), networks: ["lan"]),
                   L.vm("web-3", memory: .gib(2), antiAffinity: ["web-2"], networks: ["lan"]),
                   L.vm("app", memory: .gib(3), affinity: ["cache"], networks: ["lan"]),
                   L.vm("cache", memory: .gib(1), affinity: ["worker"]),
                   L.vm("worker", memory: .gib(1), vcpus: 2),
                   L.vm("db-1", memory: .gib(4), labels: ["zone": "b"], pools: ["ssd"], ha: true),
                   L.vm("db-2", memory: .gib(4), hosts: ["host-a", "host-c", "host-e"], pools: ["ssd"], ha: true),
                   L.vm("batch", memory: .gib(2), onMaintenance: .shutdown),
                   L.vm("edge", pinned: "host-e", networks: ["dmz"]),
                   L.vm("huge", memory: .gib(64)),
                   L.vm("old", memory: .gib(1))],
        current: ["web-2": CurrentPlacement(host: "host-b"), "batch": CurrentPlacement(host: "host-b"),
                  "old": CurrentPlacement(host: "host-d", evacuatedFrom: "host-b"),
                  "db-1": CurrentPlacement(host: "host-c")])

    @Test("the same input in any order gives the same result", arguments: [1, 2, 3, 42, 1234, 99_999] as [UInt64])
    func deterministic(seed: UInt64) {
        let reference = Placement.place(Self.busy)
        let shuffled = L.shuffled(Self.busy, seed: seed)
        #expect(Placement.place(shuffled) == reference)
        #expect(Placement.survivability(shuffled, decisions: reference.decisions)
                == Placement.survivability(Self.busy, decisions: reference.decisions))
    }

    @Test("the busy cluster is placed by every rule at once")
    func busyCluster() {
        // Pinned edge first; then the stays by name (batch shut down on host-b, old keeps its mark
        // while host-b is in maintenance); web-2 is evacuated; then the new ones by name: the
        // app group where all three fit, web-1 and web-3 away from web-2 and from each other.
        let result = Placement.place(Self.busy)
        #expect(L.summary(result) == [
            "web-1": "host-d new", "web-2": "host-a evacuated from host-b", "web-3": "host-c new",
            "app": "host-a new", "cache": "host-a new", "worker": "host-a new",
            "db-1": "host-c stays", "db-2": "host-c new", "batch": "host-b shutDownForMaintenance",
            "edge": "host-e pinned", "old": "host-d stays from host-b",
        ])
        #expect(result.unplaced.keys.sorted() == ["huge"])
    }

    @Test("a second pass, once the first one is applied, moves nothing")
    func stable() {
        let first = Placement.place(Self.busy)
        let second = L.converge(Self.busy)
        #expect(second.decisions.mapValues(\.host) == first.decisions.mapValues(\.host))
        #expect(second.decisions.values.allSatisfy { $0.reason != .new && $0.reason != .evacuated })
        #expect(second.unplaced.keys.sorted() == ["huge"])
    }

    @Test("an affinity link listed by either side makes the same group")
    func affinityEitherSide() {
        let hosts = [L.host("host-a", memory: .gib(2)), L.host("host-b", memory: .gib(4))]
        let one = Placement.place(PlacementInput(hosts: hosts, requests: [L.vm("a", memory: .gib(2), affinity: ["b"]),
                                                                         L.vm("b", memory: .gib(2))]))
        let other = Placement.place(PlacementInput(hosts: hosts, requests: [L.vm("a", memory: .gib(2)),
                                                                           L.vm("b", memory: .gib(2), affinity: ["a"])]))
        #expect(L.summary(one) == ["a": "host-b new", "b": "host-b new"])
        #expect(one == other)
    }
}
