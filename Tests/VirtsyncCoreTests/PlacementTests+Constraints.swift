import Testing
import VirtsyncCore

private typealias L = PlacementLab

extension PlacementTests {
    // MARK: affinity and anti-affinity

    @Test("an affinity group lands together on a host that fits the whole group")
    func affinityGroupTogether() {
        // host-a is the least loaded but cannot take both.
        let input = PlacementInput(hosts: [L.host("host-a", memory: .gib(3)), L.host("host-b", memory: .gib(8))],
                                   requests: [L.vm("app", memory: .gib(2), affinity: ["db"]), L.vm("db", memory: .gib(2)),
                                              L.vm("x", pinned: "host-b")])
        #expect(L.summary(Placement.place(input)) == ["app": "host-b new", "db": "host-b new", "x": "host-b pinned"])
    }

    @Test("affinity is transitive, and a new member joins the running ones")
    func affinityTransitiveAndSticky() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("a", affinity: ["b"]), L.vm("b"), L.vm("c", affinity: ["b"])],
                                   current: ["a": CurrentPlacement(host: "host-b"), "b": CurrentPlacement(host: "host-b")])
        #expect(L.summary(Placement.place(input)) == ["a": "host-b stays", "b": "host-b stays", "c": "host-b new"])
    }

    @Test("a VM with affinity to a pinned VM follows it to the pinned host")
    func affinityFollowsPin() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("app", affinity: ["db"]), L.vm("db", pinned: "host-b")],
                                   current: ["app": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["app": "host-b constraint", "db": "host-b pinned"])
    }

    @Test("a running VM that cannot join its pinned partner stays where it is, listed as stuck")
    func affinityFollowerStuck() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b", memory: .gib(2))],
                                   requests: [L.vm("app", memory: .gib(2), affinity: ["db"]), L.vm("db", memory: .gib(1), pinned: "host-b"),
                                              L.vm("new", memory: .gib(2), affinity: ["db"])],
                                   current: ["app": CurrentPlacement(host: "host-a")])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["app": "host-a stays", "db": "host-b pinned"])
        #expect(result.stuck == ["app": "stays on host-a, which it should leave; must share a host with db (affinity): "
                                      + "host-b: capacity (1GiB free, needs 2GiB)"])
        #expect(result.unplaced == ["new": "must share a host with db (affinity): host-b: capacity (1GiB free, needs 2GiB)"])
    }

    @Test("anti-affinity spreads VMs, whichever side lists it")
    func antiAffinitySpreads() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b", memory: .gib(64))],
                                   requests: [L.vm("web-1", memory: .gib(4)), L.vm("web-2", antiAffinity: ["web-1"]),
                                              L.vm("web-3", antiAffinity: ["web-2"])])
        // host-b stays far emptier, yet web-3 must avoid web-2 there.
        let result = Placement.place(input)
        #expect(L.summary(result) == ["web-1": "host-a new", "web-2": "host-b new", "web-3": "host-a new"])
        let apart = PlacementInput(hosts: [L.host("host-a")], requests: [L.vm("a", antiAffinity: ["b"]), L.vm("b")])
        #expect(Placement.place(apart).unplaced == ["b": "host-a: anti-affinity with a"])
    }

    // MARK: capacity, labels, networks, pools

    @Test("declared memory is never exceeded")
    func memoryCapacity() {
        let input = PlacementInput(hosts: [L.host("host-a", memory: .gib(2)), L.host("host-b", memory: .mib(1536))],
                                   requests: [L.vm("a"), L.vm("b"), L.vm("c"), L.vm("d")])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["a": "host-a new", "b": "host-b new", "c": "host-a new"])
        #expect(result.unplaced == ["d": "host-a: capacity (0B free, needs 1GiB); host-b: capacity (512MiB free, needs 1GiB)"])
    }

    @Test("declared vCPUs are never exceeded")
    func cpuCapacity() {
        let input = PlacementInput(hosts: [L.host("host-a", cpus: 4), L.host("host-b", memory: .gib(64), cpus: 2)],
                                   requests: [L.vm("a", vcpus: 2), L.vm("b", vcpus: 3), L.vm("c", vcpus: 2)])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["a": "host-a new", "c": "host-b new"])
        #expect(result.unplaced == ["b": "host-a: cpus (2 free, needs 3); host-b: cpus (2 free, needs 3)"])
    }

    @Test("only hosts carrying every label with the same value are valid")
    func labels() {
        let input = PlacementInput(
            hosts: [L.host("host-a", labels: ["zone": "a", "ssd": "yes"]), L.host("host-b", labels: ["zone": "b"]),
                    L.host("host-c", labels: ["zone": "b", "ssd": "yes"])],
            requests: [L.vm("vm", labels: ["zone": "b", "ssd": "yes"])])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-c new"])
    }

    @Test("a host must declare every network and pool the VM uses")
    func networksAndPools() {
        let input = PlacementInput(
            hosts: [L.host("host-a", networks: ["lan"]), L.host("host-b", networks: ["lan", "dmz"]),
                    L.host("host-c", networks: ["lan", "dmz"], pools: ["ssd"])],
            requests: [L.vm("vm", networks: ["dmz", "lan"], pools: ["ssd"]), L.vm("no", networks: ["san"])])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["vm": "host-c new"])
        #expect(result.unplaced == ["no": "host-a: lacks network san; host-b: lacks network san; host-c: lacks network san"])
    }

    @Test("an unplaced VM lists, per host, the first constraint that failed")
    func unplacedReasons() {
        let input = PlacementInput(
            hosts: [L.host("host-a", labels: ["zone": "b"], maintenance: true), L.host("host-b", labels: ["zone": "a"]),
                    L.host("host-c", memory: .gib(2), labels: ["zone": "b"]), L.host("host-d", labels: ["zone": "b"])],
            requests: [L.vm("vm", hosts: ["host-a", "host-b", "host-c"], labels: ["zone": "b"]),
                       L.vm("filler", memory: .mib(1536), pinned: "host-c")])
        #expect(Placement.place(input).unplaced == ["vm": "host-a: in maintenance; host-b: lacks label zone=b; "
                                                        + "host-c: capacity (512MiB free, needs 1GiB); host-d: not in the allowed hosts"])
    }

    @Test("a group that fits nowhere names the member that failed")
    func unplacedGroup() {
        let input = PlacementInput(hosts: [L.host("host-a", labels: ["zone": "b"]), L.host("host-b", memory: .gib(1), labels: ["zone": "a"])],
                                   requests: [L.vm("app", affinity: ["db"]), L.vm("db", labels: ["zone": "a"])])
        let why = "host-a: lacks label zone=a (for db); host-b: capacity (0B free, needs 1GiB) (for db)"
        #expect(Placement.place(input).unplaced == ["app": why, "db": why])
    }

    // MARK: unreachable hosts

    @Test("while a host is unreachable, a VM not found elsewhere is left alone and named unknown")
    func unknownWhereabouts() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("lost"), L.vm("seen")],
                                   current: ["seen": CurrentPlacement(host: "host-a")], unknownHosts: ["host-c", "host-b"])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["seen": "host-a stays"])
        #expect(result.unknown == ["lost": "not found on the reachable hosts; it may run on host-b, host-c (unreachable)"])
    }

    @Test("nothing moves to an unreachable host, and a VM pinned to one is left alone")
    func nothingOnUnknownHosts() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b"), L.host("host-c", memory: .gib(4))],
                                   requests: [L.vm("vm"), L.vm("pinned", pinned: "host-b")],
                                   current: ["vm": CurrentPlacement(host: "host-a"), "pinned": CurrentPlacement(host: "host-c")],
                                   unknownHosts: ["host-b"])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["vm": "host-c evacuated from host-a"])
        #expect(result.unknown == ["pinned": "pinned to host-b, which is unreachable"])
    }
}
