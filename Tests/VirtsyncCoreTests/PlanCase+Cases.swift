import VirtsyncCore

extension PlanCase {
    /// An empty host: every pool, volume (a blank base, an overlay on it, a generated cloud-init
    /// seed with its binary content, a raw data disk), network (NAT with DHCP static hosts, a host
    /// bridge) and domain (one running, one stopped) is created, dependencies first.
    static let emptyHost: PlanCase = {
        let data = VolumeModel(pool: "lab", name: "db-1-data.raw", capacity: .gib(20), format: .raw)
        let uplink = NetworkModel(name: "uplink", mode: .bridge, bridge: "br0", autostart: true)
        let web = DomainModel(name: "web-1", vcpus: 2, memory: .gib(1), maxMemory: .gib(2), machine: "q35", firmware: .uefi,
                              disks: [Lab.root("web-1-root.qcow2"), Lab.seedDisk(Lab.seed)],
                              interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:01")],
                              autostart: true, power: .running)
        let db = DomainModel(name: "db-1", vcpus: 4, memory: .gib(4),
                             disks: [Lab.root("db-1-data.raw")],
                             interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:AA:00:02"),
                                          InterfaceModel(source: .network("uplink"), model: "e1000", linkUp: false)],
                             power: .stopped)
        let host = DesiredHost(name: "local", networks: [Lab.labnet, uplink], pools: [Lab.pool],
                               volumes: [Lab.base, Lab.webRoot, Lab.seed, data], domains: [web, db])
        return PlanCase("empty-host", desired: DesiredState(hosts: [host], specDigest: specDigest, commit: commit),
                        observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
    }()

    /// Desired equals observed: the spec leaves a MAC, the machine type and the maximum memory
    /// open and libvirt filled them in; the seed volume is present (named by its digest); a
    /// bridge name libvirt chose; unmanaged resources outside the spec. Nothing to do.
    static let noChanges: PlanCase = {
        let web = DomainModel(name: "web-1", vcpus: 2, memory: .gib(1),
                              disks: [Lab.root("web-1-root.qcow2"), Lab.seedDisk(Lab.seed)],
                              interfaces: [InterfaceModel(source: .network("labnet"))], power: .running)
        let db = DomainModel(name: "db-1", memory: .mib(512), interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:02")],
                             power: .stopped)
        let host = DesiredHost(name: "local", networks: [Lab.labnet], pools: [Lab.pool],
                               volumes: [Lab.base, Lab.webRoot, Lab.seed], domains: [web, db])
        var net = ObservedNetwork(model: Lab.labnet, uuid: "3b0f6c1e-0000-4000-8000-000000000001", active: true, managed: true)
        net.model.bridge = "virbr7"
        let observed = ObservedHost(
            name: "local",
            networks: ["labnet": net,
                       "default": ObservedNetwork(model: NetworkModel(name: "default", mode: .nat), uuid: "3b0f6c1e-0000-4000-8000-000000000002", active: true)],
            pools: ["lab": ObservedPool(model: PoolModel(name: "lab", type: .dir, path: Lab.poolPath + "/"), uuid: "p-1", active: true, managed: true)],
            volumes: [Lab.base.key: Lab.observed(Lab.base), Lab.webRoot.key: Lab.observed(Lab.webRoot), Lab.seed.key: Lab.observed(Lab.seed),
                      "lab/scratch.raw": Lab.observed(VolumeModel(pool: "lab", name: "scratch.raw", capacity: .gib(1), format: .raw), managed: false)],
            domains: ["web-1": Lab.observed(web, uuid: "7d2c0f4e-1111-4000-8000-000000000001", state: .running, generatedMACs: ["52:54:00:3c:9e:01"]),
                      "db-1": Lab.observed(db, uuid: "7d2c0f4e-1111-4000-8000-000000000002", state: .shutoff),
                      "scratch": Lab.observed(DomainModel(name: "scratch", memory: .mib(256)), uuid: "7d2c0f4e-1111-4000-8000-000000000003",
                                              state: .running, managed: false)])
        return PlanCase("no-changes", desired: DesiredState(hosts: [host], specDigest: specDigest, commit: commit),
                        observed: ObservedState(hosts: ["local": observed]))
    }()

    /// Running VMs with changes of every disruption below a replace: web-1 gets more memory and
    /// a vCPU live, its link goes down live and its machine type changes at the next boot (left
    /// pending, with a note); db-1 gets a new data disk on SATA (QEMU cannot plug one in while the
    /// guest runs) and restartForUpdates, so it is updated and restarted; cache-1's link was set down behind virtsync's back and is set up live.
    static let liveAndNextBoot: PlanCase = {
        let dbData = VolumeModel(pool: "lab", name: "db-1-data.qcow2", capacity: .gib(50), format: .qcow2)
        let dbRoot = VolumeModel(pool: "lab", name: "db-1-root.qcow2", capacity: .gib(10), format: .qcow2)
        let cacheRoot = VolumeModel(pool: "lab", name: "cache-1-root.qcow2", capacity: .gib(4), format: .qcow2)
        let webBefore = DomainModel(name: "web-1", vcpus: 1, maxVcpus: 4, memory: .mib(512), maxMemory: .gib(1), machine: "pc-i440fx-8.2",
                                    disks: [Lab.root("web-1-root.qcow2")],
                                    interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:01")])
        var web = webBefore
        web.vcpus = 2
        web.memory = .mib(768)
        web.machine = "q35"
        web.interfaces[0].linkUp = false
        let dbBefore = DomainModel(name: "db-1", vcpus: 2, memory: .gib(2), disks: [Lab.root("db-1-root.qcow2")],
                                   interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:02")])
        var db = dbBefore
        db.disks.append(DiskModel(target: "sda", bus: .sata, source: .volume(pool: "lab", volume: "db-1-data.qcow2")))
        db.restartForUpdates = true
        let cache = DomainModel(name: "cache-1", memory: .mib(256), disks: [Lab.root("cache-1-root.qcow2")],
                                interfaces: [InterfaceModel(source: .network("labnet"))])
        let host = DesiredHost(name: "local", networks: [Lab.labnet], pools: [Lab.pool],
                               volumes: [dbRoot, dbData, cacheRoot, Lab.base, Lab.webRoot], domains: [web, db, cache])
        let cacheMAC = "52:54:00:5e:77:10"
        let observed = ObservedHost(
            name: "local",
            networks: ["labnet": ObservedNetwork(model: Lab.labnet, uuid: "n-1", active: true, managed: true)],
            pools: ["lab": ObservedPool(model: Lab.pool, uuid: "p-1", active: true, managed: true)],
            volumes: Dictionary(uniqueKeysWithValues: [dbRoot, cacheRoot, Lab.base, Lab.webRoot].map { ($0.key, Lab.observed($0)) }),
            domains: ["web-1": Lab.observed(webBefore, uuid: "u-web-1", state: .running),
                      "db-1": Lab.observed(dbBefore, uuid: "u-db-1", state: .running),
                      "cache-1": Lab.observed(cache, uuid: "u-cache-1", state: .running, generatedMACs: [cacheMAC],
                                              live: LiveDomainValues(memory: .mib(256), maxMemory: .mib(256), vcpus: 1, maxVcpus: 1,
                                                                     linkUp: [cacheMAC: false]))])
        return PlanCase("live-and-next-boot", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()

    /// Pruning with deleteVolumesWithVM: the running managed domain old-vm is deleted, then its
    /// network oldnet and its volume (data loss). Unmanaged resources with spec names are in the
    /// way and only warned about: a domain, a network that differs, a volume smaller than the spec.
    static let pruning: PlanCase = {
        let web = DomainModel(name: "web-1", memory: .mib(512), disks: [Lab.root("web-1-root.qcow2")],
                              interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:01")])
        let web2 = DomainModel(name: "web-2", memory: .mib(512), disks: [Lab.root("web-2-root.qcow2")],
                               interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:03")])
        let web2Root = VolumeModel(pool: "lab", name: "web-2-root.qcow2", capacity: .gib(8), format: .qcow2)
        let storage = NetworkModel(name: "storage", mode: .routed, ipv4: IPv4Config(address: "10.50.0.1", prefix: 24))
        let oldVM = DomainModel(name: "old-vm", memory: .gib(1), disks: [Lab.root("old-vm-root.qcow2")],
                                interfaces: [InterfaceModel(source: .network("oldnet"), mac: "52:54:00:aa:00:09")])
        let oldRoot = VolumeModel(pool: "lab", name: "old-vm-root.qcow2", capacity: .gib(8), format: .qcow2)
        let oldnet = NetworkModel(name: "oldnet", mode: .isolated, ipv4: IPv4Config(address: "10.99.0.1", prefix: 24))
        let host = DesiredHost(name: "local", networks: [Lab.labnet, storage], pools: [Lab.pool],
                               volumes: [Lab.webRoot, web2Root], domains: [web, web2])
        let theirWeb2Root = VolumeModel(pool: "lab", name: "web-2-root.qcow2", capacity: .gib(4), format: .qcow2)
        let observed = ObservedHost(
            name: "local",
            networks: ["labnet": ObservedNetwork(model: Lab.labnet, uuid: "n-1", active: true, managed: true),
                       "oldnet": ObservedNetwork(model: oldnet, uuid: "n-2", active: true, managed: true),
                       "storage": ObservedNetwork(model: NetworkModel(name: "storage", mode: .isolated, ipv4: IPv4Config(address: "10.50.0.1", prefix: 24)),
                                                  uuid: "n-3", active: true, managed: false)],
            pools: ["lab": ObservedPool(model: Lab.pool, uuid: "p-1", active: true, managed: true)],
            volumes: [Lab.webRoot.key: Lab.observed(Lab.webRoot), oldRoot.key: Lab.observed(oldRoot),
                      theirWeb2Root.key: Lab.observed(theirWeb2Root, managed: false)],
            domains: ["web-1": Lab.observed(web, uuid: "u-web-1", state: .running),
                      "old-vm": Lab.observed(oldVM, uuid: "u-old-vm", state: .running),
                      "web-2": Lab.observed(web2, uuid: "u-their-web-2", state: .running, managed: false)])
        let settings = SpecSettings(prune: true, deleteVolumesWithVM: true)
        return PlanCase("pruning", desired: DesiredState(hosts: [host], settings: settings, specDigest: specDigest, commit: commit),
                        observed: ObservedState(hosts: ["local": observed]))
    }()

    /// Two hosts, one unreachable: an error note for beta and steps only for alpha.
    static let unreachableHost: PlanCase = {
        let net = NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(address: "10.213.0.1", prefix: 24))
        let vm = DomainModel(name: "web-1", memory: .mib(512), interfaces: [InterfaceModel(source: .network("labnet"))], power: .running)
        let alpha = DesiredHost(name: "alpha", uri: "qemu+ssh://alpha/system", networks: [net], domains: [vm])
        var betaVM = vm
        betaVM.name = "web-2"
        let beta = DesiredHost(name: "beta", uri: "qemu+ssh://beta/system", networks: [net], domains: [betaVM])
        let observed = ObservedState(hosts: ["alpha": ObservedHost(name: "alpha")],
                                     unreachable: ["beta": "cannot connect to qemu+ssh://beta/system: Connection refused"])
        let options = PlanOptions(source: "/srv/virtsync/spec", recorded: ["allow_mass_delete": "false"])
        return PlanCase("unreachable-host", desired: DesiredState(hosts: [alpha, beta], specDigest: specDigest, commit: commit),
                        observed: observed, options: options)
    }()

    /// Volume sizes: a data volume grown in the spec is resized live; a root volume made smaller
    /// is refused (error note), and so is a format change.
    static let volumeSizes: PlanCase = {
        let data = VolumeModel(pool: "lab", name: "db-1-data.qcow2", capacity: .gib(40), format: .qcow2)
        let root = VolumeModel(pool: "lab", name: "db-1-root.qcow2", capacity: .gib(8), format: .qcow2)
        let logs = VolumeModel(pool: "lab", name: "db-1-logs.img", capacity: .gib(2), format: .raw)
        let host = DesiredHost(name: "local", pools: [Lab.pool], volumes: [data, root, logs])
        var dataBefore = data, rootBefore = root, logsBefore = logs
        dataBefore.capacity = .gib(20)
        rootBefore.capacity = .gib(10)
        logsBefore.format = .qcow2
        let observed = ObservedHost(
            name: "local",
            pools: ["lab": ObservedPool(model: Lab.pool, uuid: "p-1", active: true, managed: true)],
            volumes: Dictionary(uniqueKeysWithValues: [dataBefore, rootBefore, logsBefore].map { ($0.key, Lab.observed($0)) }))
        return PlanCase("volume-sizes", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()

    /// Hostile names and values that reach the renderers: `|`, `<`, `>`, `*`, `&`, backticks,
    /// a run of backticks and a long path in names, field values, reasons and notes, and a
    /// multi-line libvirt error. The spec loader refuses such names for spec resources, but file
    /// paths, DHCP host names, interface models and libvirt's messages are free text, and the
    /// renderers take any model. Markdown must stay valid; every character must reach the text.
    static let hostileValues: PlanCase = {
        let longPath = "/srv/images/" + String(repeating: "very-long-directory-name/", count: 8) + "disk|<1>`x`.img"
        let net = NetworkModel(name: "net|<b>", mode: .nat, ipv4: IPv4Config(
            address: "10.7.0.1", prefix: 24, dhcpStart: "10.7.0.100", dhcpEnd: "10.7.0.200",
            hosts: [DHCPHost(mac: "52:54:00:00:00:01", ip: "10.7.0.10", name: "db`01` | <primary> & *x*")]))
        let vm = DomainModel(name: "web`1`|<x>", memory: .mib(256),
                             disks: [DiskModel(target: "vda", source: .file(path: longPath))],
                             interfaces: [InterfaceModel(source: .network("net|<b>"), mac: "52:54:00:00:00:01", model: "virtio```")],
                             power: .stopped)
        let theirs = DomainModel(name: "legacy|<vm>`x`", memory: .mib(64))
        let host = DesiredHost(name: "edge|1", networks: [net], domains: [vm, theirs])
        let gone = DomainModel(name: "old`vm`|<script>", memory: .mib(64))
        let observed = ObservedHost(
            name: "edge|1",
            domains: ["old`vm`|<script>": Lab.observed(gone, uuid: "u-gone", state: .running),
                      "legacy|<vm>`x`": Lab.observed(theirs, uuid: "u-theirs", state: .shutoff, managed: false)])
        let far = DesiredHost(name: "far`2`", uri: "qemu+ssh://far/system")
        let reason = "error: `virsh` said <nope> | code 38\n```\n# not a heading"
        return PlanCase("hostile-values",
                        desired: DesiredState(hosts: [host, far], settings: SpecSettings(prune: true), specDigest: specDigest),
                        observed: ObservedState(hosts: ["edge|1": observed], unreachable: ["far`2`": reason]))
    }()

    /// Power state drift: a stopped VM that should run is started, a crashed one too, a running
    /// VM that should be stopped is stopped, a paused one that should run is resumed, a running
    /// one that should be paused is suspended; an inactive pool and network are started.
    static let powerState: PlanCase = {
        let a = DomainModel(name: "app-1", memory: .mib(512), power: .running)
        let b = DomainModel(name: "app-2", memory: .mib(512), power: .running)
        let c = DomainModel(name: "batch-1", memory: .mib(512), power: .stopped)
        let d = DomainModel(name: "app-3", memory: .mib(512), power: .running)
        let e = DomainModel(name: "app-4", memory: .mib(512), power: .paused)
        let host = DesiredHost(name: "local", networks: [Lab.labnet], pools: [Lab.pool], domains: [a, b, c, d, e])
        let observed = ObservedHost(
            name: "local",
            networks: ["labnet": ObservedNetwork(model: Lab.labnet, uuid: "n-1", active: false, managed: true)],
            pools: ["lab": ObservedPool(model: Lab.pool, uuid: "p-1", active: false, managed: true)],
            domains: ["app-1": Lab.observed(a, uuid: "u-1", state: .shutoff),
                      "app-2": Lab.observed(b, uuid: "u-2", state: .crashed),
                      "batch-1": Lab.observed(c, uuid: "u-3", state: .running),
                      "app-3": Lab.observed(d, uuid: "u-4", state: .paused),
                      "app-4": Lab.observed(e, uuid: "u-5", state: .running)])
        return PlanCase("power-state", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()

    /// Network and pool changes: a network's addressing changes (replace), another gains and
    /// loses DHCP static hosts (live) and its autostart; a pool moves (replace), another only
    /// changes autostart; a domain that is not running gets a new interface (no disruption).
    static let networkAndPoolChanges: PlanCase = {
        let lan = NetworkModel(name: "lan", mode: .nat, ipv4: IPv4Config(address: "10.1.0.1", prefix: 16, dhcpStart: "10.1.0.100", dhcpEnd: "10.1.0.200"))
        let lanBefore = NetworkModel(name: "lan", mode: .nat, ipv4: IPv4Config(address: "10.1.0.1", prefix: 24, dhcpStart: "10.1.0.100", dhcpEnd: "10.1.0.200"))
        let labnetBefore = NetworkModel(name: "labnet", mode: .nat, ipv4: IPv4Config(
            address: "10.213.0.1", prefix: 24, dhcpStart: "10.213.0.100", dhcpEnd: "10.213.0.199",
            hosts: [DHCPHost(mac: "52:54:00:aa:00:01", ip: "10.213.0.11", name: "web-1"),
                    DHCPHost(mac: "52:54:00:aa:00:07", ip: "10.213.0.17")]), autostart: false)
        let images = PoolModel(name: "images", type: .dir, path: "/srv/images", autostart: false)
        let imagesBefore = PoolModel(name: "images", type: .dir, path: "/srv/images", autostart: true)
        let archive = PoolModel(name: "archive", type: .netfs, path: "/mnt/archive", sourceHost: "nas.example", sourceDir: "/export/archive")
        let archiveBefore = PoolModel(name: "archive", type: .netfs, path: "/mnt/archive", sourceHost: "nas.example", sourceDir: "/export/old")
        let vmBefore = DomainModel(name: "db-1", memory: .gib(1), interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:02")],
                                   power: .stopped)
        var vm = vmBefore
        vm.interfaces.append(InterfaceModel(source: .network("lan")))
        let host = DesiredHost(name: "local", networks: [lan, Lab.labnet], pools: [archive, images], domains: [vm])
        let observed = ObservedHost(
            name: "local",
            networks: ["lan": ObservedNetwork(model: lanBefore, uuid: "n-1", active: true, managed: true),
                       "labnet": ObservedNetwork(model: labnetBefore, uuid: "n-2", active: true, managed: true)],
            pools: ["images": ObservedPool(model: imagesBefore, uuid: "p-1", active: true, managed: true),
                    "archive": ObservedPool(model: archiveBefore, uuid: "p-2", active: true, managed: true)],
            domains: ["db-1": Lab.observed(vmBefore, uuid: "u-db-1", state: .shutoff)])
        return PlanCase("network-and-pool-changes", desired: DesiredState(hosts: [host], specDigest: specDigest, commit: commit),
                        observed: ObservedState(hosts: ["local": observed]))
    }()
}
