import VirtsyncCore

/// A small lab: one pool with a base image and an overlay, one NAT network, two VMs.
func labDesired(memory: ByteSize = .mib(64), vcpus: Int = 1, prune: Bool = false, restartForUpdates: Bool = false,
                web2: Bool = true) -> DesiredState {
    let pool = PoolModel(name: "lab", type: .dir, path: "/var/lib/virtsync/pools/lab")
    let base = VolumeModel(pool: "lab", name: "base.qcow2", capacity: .gib(1), format: .qcow2)
    let root = VolumeModel(pool: "lab", name: "web-1-root.qcow2", capacity: .gib(2), format: .qcow2,
                           source: .backing(pool: "lab", volume: "base.qcow2"))
    let net = NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(address: "10.213.0.1", prefix: 24,
                           dhcpStart: "10.213.0.100", dhcpEnd: "10.213.0.199"))
    var web1 = DomainModel(name: "web-1", vcpus: vcpus, maxVcpus: 4, memory: memory, maxMemory: .mib(128),
                           loader: "/usr/share/qemu/qboot.rom",
                           disks: [DiskModel(target: "vda", source: .volume(pool: "lab", volume: "web-1-root.qcow2"))],
                           interfaces: [InterfaceModel(source: .network("labnet"))], restartForUpdates: restartForUpdates)
    web1.power = .running
    let web2VM = DomainModel(name: "web-2", memory: .mib(32), interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:02")],
                             power: .stopped)
    let host = DesiredHost(name: "local", networks: [net], pools: [pool], volumes: [base, root],
                           domains: web2 ? [web1, web2VM] : [web1])
    return DesiredState(hosts: [host], settings: SpecSettings(prune: prune), specDigest: "d1gest")
}
