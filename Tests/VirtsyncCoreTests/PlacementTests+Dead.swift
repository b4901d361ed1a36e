import Testing
import VirtsyncCore

private typealias L = PlacementLab

extension PlacementTests {
    // MARK: dead hosts (HA: lease expired, fenced or reset)

    @Test("an unknown host blocks new VMs; a dead one does not, and gets none of them")
    func deadHostLiftsTheBlock() {
        let hosts = [L.host("host-a"), L.host("host-b"), L.host("host-c", memory: .gib(64))]
        let unknown = PlacementInput(hosts: hosts, requests: [L.vm("new")], unknownHosts: ["host-c"])
        #expect(Placement.place(unknown).unknown["new"]?.contains("may run on host-c") == true)
        let dead = PlacementInput(hosts: hosts, requests: [L.vm("new")], deadHosts: ["host-c": ["old"]])
        let result = Placement.place(dead)
        #expect(result.unknown.isEmpty)
        // host-c has the most room, but it is dead.
        #expect(result.decisions["new"].map { $0.host != "host-c" } == true, "\(L.summary(result))")
    }

    @Test("a dead host's non-HA VM stays down and is reported; its HA VM is HA's; a VM pinned to it waits")
    func deadHostsVMsStay() {
        let input = PlacementInput(hosts: [L.host("host-a"), L.host("host-b")],
                                   requests: [L.vm("batch"), L.vm("db", ha: true), L.vm("pinned", pinned: "host-b"),
                                              L.vm("web", ha: true)],
                                   current: ["web": CurrentPlacement(host: "host-a")],
                                   deadHosts: ["host-b": ["batch", "db", "web"]])
        let result = Placement.place(input)
        #expect(result.unknown["batch"] == "its host host-b is dead (its HA lease expired): it stays down until host-b is back (it is not HA)")
        #expect(result.unknown["db"] == "its host host-b is dead (its HA lease expired): HA restarts it elsewhere")
        #expect(result.unknown["pinned"]?.contains("host-b is dead") == true)
        // Found running on a live host (HA restarted it there): placed like any running VM.
        #expect(L.summary(result) == ["web": "host-a stays"])
    }
}
