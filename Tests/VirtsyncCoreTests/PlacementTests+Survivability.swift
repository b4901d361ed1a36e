import Testing
import VirtsyncCore

private typealias L = PlacementLab

extension PlacementTests {
    /// Places the input, then runs the N+1 check on the result.
    private func warnings(_ input: PlacementInput) -> [String] {
        Placement.survivability(input, decisions: Placement.place(input).decisions)
    }

    @Test("a cluster with room for the HA VMs of any one host survives; non-HA VMs do not count")
    func survives() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b"), L.host("host-c", memory: .gib(2))],
                                   requests: [L.vm("db-1", memory: .gib(4), pinned: "host-a", ha: true),
                                              L.vm("db-2", memory: .gib(4), pinned: "host-b", ha: true),
                                              L.vm("big", memory: .gib(2), pinned: "host-c")])
        #expect(warnings(input) == [])
    }

    @Test("a host whose HA VMs would fit nowhere else is named, with its VMs and why")
    func doesNotSurvive() {
        let input = PlacementInput(hosts: [L.host("host-a", memory: .gib(4)), L.host("host-b"), L.host("host-c", maintenance: true)],
                                   requests: [L.vm("filler", memory: .gib(3), pinned: "host-a"),
                                              L.vm("db-1", memory: .gib(2), ha: true), L.vm("db-2", memory: .gib(2), ha: true)])
        #expect(L.summary(Placement.place(input)) == ["filler": "host-a pinned", "db-1": "host-b new", "db-2": "host-b new"])
        #expect(warnings(input) == ["losing host-b would leave db-1, db-2 without a host: "
                                    + "host-a: capacity (1GiB free, needs 2GiB); host-c: in maintenance"])
    }

    @Test("a pinned HA VM counts: it restarts elsewhere when its host dies")
    func pinnedHACounted() {
        let roomy = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("db", memory: .gib(4), pinned: "host-a", ha: true)])
        #expect(warnings(roomy) == [])
        var tight = roomy
        tight.hosts[1].memory = .gib(2)
        #expect(warnings(tight) == ["losing host-a would leave db without a host: host-b: capacity (2GiB free, needs 4GiB)"])
    }

    @Test("hosts in maintenance are not counted as survivors")
    func maintenanceNotSurvivor() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b", maintenance: true)],
                                   requests: [L.vm("vm", ha: true)])
        #expect(warnings(input) == ["losing host-a would leave vm without a host: host-b: in maintenance"])
    }

    @Test("HA VMs shut down for maintenance run nowhere, so losing their host loses nothing")
    func shutDownNotCounted() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true)],
                                   requests: [L.vm("vm", pinned: "host-a", onMaintenance: .shutdown, ha: true)])
        #expect(warnings(input) == [])
    }

    @Test("an HA affinity group must find one host for all of it; each failure is explained")
    func survivabilityGroupsAndReasons() {
        let input = PlacementInput(
            hosts: [L.host("host-a"), L.host("host-b", memory: .gib(3)), L.host("host-c", memory: .gib(3), labels: ["zone": "c"])],
            requests: [L.vm("app", memory: .gib(2), pinned: "host-a", affinity: ["db"], ha: true),
                       L.vm("db", memory: .gib(2), ha: true),
                       L.vm("edge", pinned: "host-a", labels: ["zone": "a"], ha: true)])
        #expect(warnings(input) == [
            "losing host-a would leave app, db, edge without a host: "
                + "app, db (host-b: capacity (1GiB free, needs 2GiB) (for db); host-c: capacity (1GiB free, needs 2GiB) (for db)), "
                + "edge (host-b: lacks label zone=a; host-c: lacks label zone=a)",
        ])
    }
}
