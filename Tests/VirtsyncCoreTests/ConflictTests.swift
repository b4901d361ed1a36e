import Testing
import VirtsyncCore

@Suite("Host-wide conflicts are reported before apply")
struct ConflictTests {
    @Test("a new network whose bridge or subnet another network uses, and a pool on another pool's directory, are errors in the plan")
    func conflicts() {
        var host = ObservedHost(name: "local")
        host.networks["default"] = ObservedNetwork(model: NetworkModel(name: "default", mode: .nat, bridge: "virbr0",
                                                   ipv4: IPv4Config(address: "192.168.122.1", prefix: 24)), uuid: "n", active: true)
        host.pools["images"] = ObservedPool(model: PoolModel(name: "images", type: .dir, path: "/var/lib/libvirt/images"), uuid: "p", active: true)
        let desired = DesiredState(hosts: [DesiredHost(name: "local",
            networks: [NetworkModel(name: "lab", mode: .nat, bridge: "virbr0", ipv4: IPv4Config(address: "192.168.122.129", prefix: 25)),
                       NetworkModel(name: "ok", mode: .isolated, ipv4: IPv4Config(address: "10.9.0.1", prefix: 24))],
            pools: [PoolModel(name: "mine", type: .dir, path: "/var/lib/libvirt/images/")])], specDigest: "d")
        let plan = Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": host]))
        let errors = plan.notes.filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains { $0.contains("bridge virbr0 is used by network default") })
        #expect(errors.contains { $0.contains("overlaps network default") })
        #expect(errors.contains { $0.contains("pool mine cannot be created") })
        #expect(!errors.contains { $0.contains("network ok") })
    }
}
