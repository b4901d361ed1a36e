import Testing
import VirtsyncCore

private typealias L = PlacementLab

extension PlacementTests {
    // MARK: stickiness

    @Test("a running VM is not moved when a less loaded host appears")
    func sticky() {
        var input = PlacementInput(hosts: [L.host("host-a")], requests: [L.vm("vm-1"), L.vm("vm-2")])
        input.current = L.observed(after: Placement.place(input))
        input.hosts.append(L.host("host-0"))
        let result = Placement.place(input)
        #expect(L.summary(result) == ["vm-1": "host-a stays", "vm-2": "host-a stays"])
    }

    @Test("a spec change of the allowed hosts moves a running VM, as a constraint")
    func allowedHostsChange() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("vm", hosts: ["host-c", "host-b"])],
                                   current: ["vm": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-b constraint"])
    }

    @Test("a label the host no longer matches moves a running VM, as a constraint")
    func labelChange() {
        let input = PlacementInput(hosts: [L.host("host-a", labels: ["zone": "a"]), L.host("host-b", labels: ["zone": "b"])],
                                   requests: [L.vm("vm", labels: ["zone": "b"])],
                                   current: ["vm": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-b constraint"])
    }

    @Test("when a host is over capacity, the VMs that still fit stay (by name) and the rest move")
    func capacityChange() {
        let input = PlacementInput(hosts: [L.host("host-a", memory: .gib(4)), L.host("host-b", memory: .gib(4))],
                                   requests: [L.vm("a", memory: .gib(2)), L.vm("b", memory: .gib(3))],
                                   current: ["a": CurrentPlacement(host: "host-a"), "b": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["a": "host-a stays", "b": "host-b constraint"])
    }

    @Test("a new anti-affinity between VMs on one host moves the second one by name")
    func antiAffinityChange() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("a"), L.vm("b", antiAffinity: ["a"])],
                                   current: ["a": CurrentPlacement(host: "host-a"), "b": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["a": "host-a stays", "b": "host-b constraint"])
    }

    // MARK: maintenance

    @Test("maintenance evacuates a host and its VMs come back when the mark is removed")
    func evacuateAndReturn() {
        var input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("vm-1"), L.vm("vm-2"), L.vm("vm-3"), L.vm("vm-4", memory: .gib(2))])
        let normal = Placement.place(input)
        #expect(L.summary(normal) == ["vm-1": "host-a new", "vm-2": "host-b new", "vm-3": "host-c new", "vm-4": "host-a new"])

        input.current = L.observed(after: normal)
        input.hosts[0].maintenance = true
        let drained = Placement.place(input)
        #expect(L.summary(drained) == ["vm-1": "host-b evacuated from host-a", "vm-2": "host-b stays",
                                       "vm-3": "host-c stays", "vm-4": "host-c evacuated from host-a"])

        input.current = L.observed(after: drained)
        input.hosts[0].maintenance = false
        let back = Placement.place(input)
        #expect(L.summary(back) == ["vm-1": "host-a returns", "vm-2": "host-b stays",
                                    "vm-3": "host-c stays", "vm-4": "host-a returns"])
        input.current = L.observed(after: back)
        #expect(L.summary(Placement.place(input)) == L.summary(normal).mapValues { $0.replacingOccurrences(of: "new", with: "stays") })
    }

    @Test("an evacuated VM keeps its mark, pass after pass, while its host is in maintenance")
    func markSurvives() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("vm")],
                                   current: ["vm": CurrentPlacement(host: "host-c", evacuatedFrom: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-c stays from host-a"])
        #expect(L.summary(L.converge(input)) == ["vm": "host-c stays from host-a"])
    }

    @Test("an evacuated VM that must leave its new host too keeps the mark of the first one")
    func markSurvivesAMove() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b"), L.host("host-c")],
                                   requests: [L.vm("vm", hosts: ["host-a", "host-b"])],
                                   current: ["vm": CurrentPlacement(host: "host-c", evacuatedFrom: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-b constraint from host-a"])
    }

    @Test("policy shutdown keeps the VM on its host in maintenance, then it simply stays")
    func shutdownPolicy() {
        var input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b")],
                                   requests: [L.vm("vm", onMaintenance: .shutdown)],
                                   current: ["vm": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-a shutDownForMaintenance"])
        input.hosts[0].maintenance = false
        #expect(L.summary(Placement.place(input)) == ["vm": "host-a stays"])
    }

    @Test("an evacuated VM does not return to a host the spec no longer allows, and forgets it")
    func noReturnWhenNotAllowed() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("vm", hosts: ["host-b"])],
                                   current: ["vm": CurrentPlacement(host: "host-b", evacuatedFrom: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["vm": "host-b stays"])
    }

    @Test("a return never evicts a VM that stays; the returning one keeps its mark and waits")
    func returnWaitsForRoom() {
        let input = PlacementInput(hosts: [L.host("host-a", memory: .gib(4)), L.host("host-b")],
                                   requests: [L.vm("away", memory: .gib(2)), L.vm("zz-home", memory: .gib(3))],
                                   current: ["away": CurrentPlacement(host: "host-b", evacuatedFrom: "host-a"),
                                             "zz-home": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input)) == ["away": "host-b stays from host-a", "zz-home": "host-a stays"])
    }

    @Test("an evacuated VM goes to the least loaded valid host")
    func evacuationTarget() {
        let input = PlacementInput(
            hosts: [L.host("host-a", maintenance: true), L.host("host-b", memory: .gib(4)), L.host("host-c", memory: .gib(16)),
                    L.host("host-d")],
            // host-b is 25% used, host-c 6.25%, host-d is empty but not allowed.
            requests: [L.vm("vm", hosts: ["host-a", "host-b", "host-c"]), L.vm("b", pinned: "host-b"), L.vm("c", pinned: "host-c")],
            current: ["vm": CurrentPlacement(host: "host-a")])
        #expect(L.summary(Placement.place(input))["vm"] == "host-c evacuated from host-a")
    }

    @Test("a VM that must leave a host in maintenance but fits nowhere stays, listed as stuck")
    func stuckInMaintenance() {
        let input = PlacementInput(hosts: [L.host("host-a", maintenance: true), L.host("host-b", memory: .gib(1))],
                                   requests: [L.vm("vm", memory: .gib(2))],
                                   current: ["vm": CurrentPlacement(host: "host-a")])
        let result = Placement.place(input)
        #expect(L.summary(result) == ["vm": "host-a stays"])
        #expect(result.unplaced.isEmpty)
        #expect(result.stuck == ["vm": "stays on host-a, which it should leave; host-a: in maintenance; "
                                     + "host-b: capacity (1GiB free, needs 2GiB)"])
    }
}
