import VirtsyncCore

/// Values several cases share: a lab with a pool, an overlay on a base image, a NAT network.
enum Lab {
    static let poolPath = "/var/lib/virtsync/pools/lab"
    static let pool = PoolModel(name: "lab", type: .dir, path: poolPath)
    static let base = VolumeModel(pool: "lab", name: "debian-12.qcow2", capacity: .gib(2), format: .qcow2)
    static let webRoot = VolumeModel(pool: "lab", name: "web-1-root.qcow2", capacity: .gib(10), format: .qcow2,
                                     source: .backing(pool: "lab", volume: "debian-12.qcow2"))
    static let seedDigest = "a3f1c9e07b5d2486"
    /// Binary, not UTF-8: the payload must survive JSON as base64.
    static let seedContent: [UInt8] = Array("CD001".utf8) + [0x00, 0x01, 0xFF, 0xFE, 0x80, 0x0A, 0x7F]
    static let seed = VolumeModel(pool: "lab", name: "web-1-seed-\(seedDigest).iso", capacity: .kib(372), format: .iso,
                                  source: .generated(digest: seedDigest), content: seedContent)
    static let labnet = NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(
        address: "10.213.0.1", prefix: 24, dhcpStart: "10.213.0.100", dhcpEnd: "10.213.0.199",
        hosts: [DHCPHost(mac: "52:54:00:aa:00:01", ip: "10.213.0.11", name: "web-1"),
                DHCPHost(mac: "52:54:00:aa:00:02", ip: "10.213.0.12", name: "db-1")]))

    static func root(_ name: String) -> DiskModel {
        DiskModel(target: "vda", source: .volume(pool: "lab", volume: name))
    }

    static func seedDisk(_ volume: VolumeModel) -> DiskModel {
        DiskModel(target: "sda", bus: .sata, cdrom: true, source: .volume(pool: "lab", volume: volume.name), readonly: true)
    }

    static func marker(_ extra: ExtraXML = ExtraXML()) -> OwnershipMarker {
        OwnershipMarker(specDigest: "0ld5pec", commit: nil, extraDigest: extra.digest)
    }

    /// What the libvirt adapter reports for a domain virtsync defined from `vm`: the values the
    /// spec left open are filled in by libvirt, `power`, `restartForUpdates` and `restart` are
    /// not observable.
    static func observed(_ vm: DomainModel, uuid: String, state: RunState, machine: String = "pc-q35-8.2",
                         generatedMACs: [String] = [], live: LiveDomainValues? = nil, managed: Bool = true) -> ObservedDomain {
        var model = vm
        model.uuid = vm.uuid ?? uuid
        model.maxMemory = vm.maxMemory ?? vm.memory
        model.maxVcpus = vm.maxVcpus ?? vm.vcpus
        model.machine = vm.machine ?? machine
        var generated = generatedMACs.makeIterator()
        for i in model.interfaces.indices where model.interfaces[i].mac == nil {
            model.interfaces[i].mac = generated.next()
        }
        model.power = .running
        model.restartForUpdates = false
        model.restart = RestartPolicy()
        let liveValues = live ?? (state.isActive
            ? LiveDomainValues(memory: model.memory, maxMemory: model.maxMemory ?? model.memory, vcpus: model.vcpus,
                               maxVcpus: model.maxVcpus ?? model.vcpus,
                               linkUp: Dictionary(model.interfaces.compactMap { n in n.mac.map { ($0, n.linkUp) } }, uniquingKeysWith: { a, _ in a }))
            : nil)
        return ObservedDomain(model: model, uuid: uuid, state: state, live: liveValues,
                              marker: managed ? marker(vm.extraXML) : nil, hatch: managed ? .written(Hatch.leaves(vm.extraXML)) : nil)
    }

    static func observed(_ volume: VolumeModel, managed: Bool = true) -> ObservedVolume {
        var model = volume
        model.content = nil
        if case .generated = volume.source { model.source = .blank }
        if case .clone = volume.source { model.source = .blank }
        return ObservedVolume(model: model, path: "\(poolPath)/\(volume.name)", managed: managed)
    }
}
