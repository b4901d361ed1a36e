import Testing
import VirtsyncCore

/// A desired state to plan against the state it assumes.
struct AssumedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let desired: DesiredState
    var testDescription: String { name }

    /// Every desired state of this test target: the golden cases (and the bases of the review
    /// cases), the small lab in its variants, and a spec with every kind of value.
    static let all: [AssumedCase] = PlanCase.all.map { AssumedCase(name: $0.name, desired: $0.desired) }
        + PlanCase.all.compactMap { c in c.review.map { AssumedCase(name: "\(c.name) (base)", desired: $0.base) } }
        + [AssumedCase(name: "lab", desired: labDesired()),
           AssumedCase(name: "lab, pruning, restarts", desired: labDesired(prune: true, restartForUpdates: true)),
           AssumedCase(name: "lab without web-2", desired: labDesired(memory: .mib(128), vcpus: 4, web2: false)),
           AssumedCase(name: "everything", desired: everything)]

    /// Pools of every type, a clone at least as large as its source, a seed, a host bridge, a
    /// VM with a fixed UUID, raw XML, UEFI, a CD-ROM the spec does not call read-only, an
    /// interface without a MAC whose link is down, a file disk; and a second host.
    static let everything: DesiredState = {
        let vg = PoolModel(name: "vg0", type: .logical, path: "/dev/vg0", devices: ["/dev/sdb"])
        let nfs = PoolModel(name: "nfs", type: .netfs, path: "/mnt/nfs/", sourceHost: "nas", sourceDir: "/export", autostart: false)
        let lv = VolumeModel(pool: "vg0", name: "db-data", capacity: .gib(50), format: .raw)
        let golden = VolumeModel(pool: "nfs", name: "golden.qcow2", capacity: .gib(8), format: .qcow2)
        let copy = VolumeModel(pool: "lab", name: "copy.qcow2", capacity: .gib(8), format: .qcow2, source: .clone(pool: "nfs", volume: "golden.qcow2"))
        let uplink = NetworkModel(name: "uplink", mode: .bridge, bridge: "br0", autostart: false)
        let isolated = NetworkModel(name: "backplane", mode: .isolated, ipv4: IPv4Config(address: "10.9.0.1", prefix: 24))
        let vm = DomainModel(name: "full", uuid: "7D2C0F4E-2222-4000-8000-000000000001", vcpus: 2, maxVcpus: 8, memory: .gib(2),
                             machine: "q35", firmware: .uefi, loader: "/usr/share/OVMF/OVMF_CODE.fd", cpuMode: .hostPassthrough,
                             disks: [Lab.root("web-1-root.qcow2"), DiskModel(target: "vdb", source: .volume(pool: "vg0", volume: "db-data")),
                                     DiskModel(target: "vdc", source: .volume(pool: "lab", volume: "copy.qcow2")),
                                     DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "lab", volume: Lab.seed.name)),
                                     DiskModel(target: "vdd", source: .file(path: "/srv/images/scratch.img"), readonly: true)],
                             interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:01"),
                                          InterfaceModel(source: .bridge("br0"), model: "e1000", linkUp: false),
                                          InterfaceModel(source: .network("backplane"), linkUp: false)],
                             graphics: .vnc, serialConsole: false, autostart: true, restartForUpdates: true,
                             extraXML: ExtraXML(devices: "<watchdog model='i6300esb'/>", domain: "<clock offset='utc'/>"))
        let idle = DomainModel(name: "idle", memory: .mib(128), interfaces: [InterfaceModel(source: .network("backplane"))], power: .stopped)
        let one = DesiredHost(name: "alpha", uri: "qemu+ssh://alpha/system", networks: [Lab.labnet, uplink, isolated],
                              pools: [Lab.pool, vg, nfs], volumes: [Lab.base, Lab.webRoot, Lab.seed, lv, golden, copy], domains: [vm, idle])
        let two = DesiredHost(name: "beta", uri: "qemu+ssh://beta/system", networks: [Lab.labnet], pools: [Lab.pool],
                              volumes: [Lab.base], domains: [DomainModel(name: "small", memory: .mib(64))])
        return DesiredState(hosts: [one, two], settings: SpecSettings(prune: true, deleteVolumesWithVM: true),
                            specDigest: PlanCase.specDigest, commit: PlanCase.commit)
    }()
}

/// `ObservedState.assuming`: the state a converged spec leaves, which review plans start from.
@Suite("assumed state")
struct AssumedStateTests {
    @Test("a spec planned against the state it assumes plans nothing", arguments: AssumedCase.all)
    func convergedPlansNothing(_ c: AssumedCase) {
        for prune in [false, true] {
            let plan = Planner.plan(desired: c.desired, observed: .assuming(c.desired), options: PlanOptions(prune: prune))
            #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
            let flagged = plan.notes.filter { $0.severity != .info }
            #expect(flagged.isEmpty, "\(flagged.map(\.message))")
            #expect(plan.notes.isEmpty, "\(plan.notes.map(\.message))")
        }
    }

    @Test("networks and pools are active and managed; volumes managed at their pool's path; every host reachable")
    func resources() throws {
        let state = ObservedState.assuming(AssumedCase.everything)
        #expect(Set(state.hosts.keys) == ["alpha", "beta"])
        #expect(state.unreachable.isEmpty)
        let alpha = try #require(state.hosts["alpha"])
        #expect(alpha.networks.values.allSatisfy { $0.active && $0.managed })
        #expect(alpha.pools.values.allSatisfy { $0.active && $0.managed })
        #expect(alpha.networks["uplink"]?.model.autostart == false)
        #expect(alpha.volumes.values.allSatisfy { $0.managed && !$0.unconfirmed && $0.model.content == nil })
        #expect(alpha.volumes["vg0/db-data"]?.path == "/dev/vg0/db-data")
        #expect(alpha.volumes["nfs/golden.qcow2"]?.path == "/mnt/nfs/golden.qcow2")
        #expect(alpha.volumes["lab/web-1-root.qcow2"]?.model.source == .backing(pool: "lab", volume: "debian-12.qcow2"))
        #expect(alpha.volumes["lab/copy.qcow2"]?.model.source == .blank)
        #expect(alpha.volumes[Lab.seed.key]?.model.source == .generated(digest: Lab.seedDigest))
        // Placeholders are stable and never taken for libvirt's own.
        #expect(alpha.networks["labnet"]?.uuid == ObservedState.assuming(AssumedCase.everything).hosts["alpha"]?.networks["labnet"]?.uuid)
        #expect(alpha.networks["labnet"]?.uuid.hasPrefix("00000000-0000-0000-0000-") == true)
    }

    @Test("domains are virtsync's, running or shut off per power, live values equal to the definition")
    func domains() throws {
        let alpha = try #require(ObservedState.assuming(AssumedCase.everything).hosts["alpha"])
        let full = try #require(alpha.domains["full"])
        let spec = try #require(AssumedCase.everything.hosts[0].domains.first)
        #expect(full.marker == OwnershipMarker(specDigest: PlanCase.specDigest, commit: PlanCase.commit, extraDigest: spec.extraXML.digest))
        #expect(!spec.extraXML.digest.isEmpty)
        #expect(full.uuid == spec.uuid)
        #expect(full.state == .running)
        #expect(full.persistent)
        #expect(full.live == LiveDomainValues(memory: .gib(2), maxMemory: .gib(2), vcpus: 2, maxVcpus: 8,
                                              linkUp: ["52:54:00:aa:00:01": true]))
        #expect(full.model.disks[3].readonly, "libvirt makes a CD-ROM read-only")
        #expect(full.model.autostart)
        let idle = try #require(alpha.domains["idle"])
        #expect(idle.state == .shutoff)
        #expect(idle.live == nil)
        #expect(idle.model.maxMemory == .mib(128))
        #expect(idle.uuid.hasPrefix("00000000-0000-0000-0000-"))
    }

    @Test("a clone is assumed as large as its source when the spec asks for less, and plans no resize")
    func cloneCapacity() throws {
        let source = VolumeModel(pool: "lab", name: "golden.qcow2", capacity: .gib(10), format: .qcow2)
        let small = VolumeModel(pool: "lab", name: "small.qcow2", capacity: .gib(2), format: .qcow2, source: .clone(pool: "lab", volume: "golden.qcow2"))
        let chained = VolumeModel(pool: "lab", name: "chained.qcow2", capacity: .gib(1), format: .qcow2, source: .clone(pool: "lab", volume: "small.qcow2"))
        let large = VolumeModel(pool: "lab", name: "large.qcow2", capacity: .gib(40), format: .qcow2, source: .clone(pool: "lab", volume: "golden.qcow2"))
        let spec = DesiredState(hosts: [DesiredHost(name: "local", pools: [Lab.pool], volumes: [source, small, chained, large])],
                                specDigest: PlanCase.specDigest)
        let volumes = try #require(ObservedState.assuming(spec).hosts["local"]?.volumes)
        #expect(volumes[small.key]?.model.capacity == .gib(10))
        #expect(volumes[chained.key]?.model.capacity == .gib(10))
        #expect(volumes[large.key]?.model.capacity == .gib(40))
        #expect(volumes[source.key]?.model.capacity == .gib(10))
        let plan = Planner.plan(desired: spec, observed: .assuming(spec))
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
        // Growing the source in a later commit resizes the source only.
        var head = spec
        head.hosts[0].volumes[0].capacity = .gib(12)
        #expect(Planner.plan(desired: head, observed: .assuming(spec)).steps.map(\.id) == ["update:volume:local/lab/golden.qcow2"])
    }
}
