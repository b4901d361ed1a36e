import VirtsyncCore

/// Model values the golden and round-trip tests share: one per interesting case.
enum Models {
    static let minimalDomain = DomainModel(name: "tiny", memory: .mib(64), serialConsole: false)

    static let fullDomain = DomainModel(
        name: "web-1", uuid: "6c3b1d52-1f0e-4c2a-9e1a-0d2f4b6a8c10", vcpus: 2, maxVcpus: 4,
        memory: .mib(512), maxMemory: .gib(1), machine: "q35", firmware: .bios,
        loader: "/usr/share/qemu/qboot.rom", cpuMode: .hostPassthrough,
        disks: [
            DiskModel(target: "vda", bus: .virtio, source: .volume(pool: "images", volume: "web-1-root.qcow2")),
            DiskModel(target: "sda", bus: .sata, cdrom: true, source: .file(path: "/srv/iso/install.iso"), readonly: true),
            DiskModel(target: "sdb", bus: .scsi, source: .file(path: "/srv/data/web-1.raw"), readonly: true),
        ],
        interfaces: [
            InterfaceModel(source: .network("default"), mac: "52:54:00:12:34:56", model: "virtio"),
            InterfaceModel(source: .bridge("br0"), model: "e1000", linkUp: false),
        ],
        graphics: .vnc, serialConsole: true, autostart: true)

    static let uefiAutoDomain = DomainModel(
        name: "efi-auto", vcpus: 1, memory: .mib(256), firmware: .uefi, cpuMode: .hostModel,
        interfaces: [InterfaceModel(source: .network("lan"))], graphics: .spice, serialConsole: true)

    static let uefiLoaderDomain = DomainModel(
        name: "efi-loader", vcpus: 3, maxVcpus: 3, memory: .mib(128), maxMemory: .mib(128),
        firmware: .uefi, loader: "/usr/share/OVMF/OVMF_CODE.fd", cpuMode: .maximum,
        disks: [DiskModel(target: "hda", bus: .ide, source: .file(path: "/images/a.qcow2"))])

    /// Every string field a user controls, with characters XML must escape.
    static let hostileDomain = DomainModel(
        name: "o'brien&<co>\"x\"", memory: .mib(64), machine: "pc",
        loader: "/fw/a&b<'c'>.rom",
        disks: [
            DiskModel(target: "vda", source: .volume(pool: "p&<'\">", volume: "v&<'\">.qcow2")),
            DiskModel(target: "vdb", source: .file(path: "/srv/\"quoted\" & <angled> 'single'.img")),
        ],
        interfaces: [
            InterfaceModel(source: .network("net&<'\">"), model: "virtio"),
            InterfaceModel(source: .bridge("br&<'\">"), model: "virtio"),
        ])

    static let extraXMLDomain = DomainModel(
        name: "extra", memory: .mib(64), serialConsole: false,
        extraXML: ExtraXML(
            devices: "    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>",
            domain: "  <features>\n    <acpi/>\n    <apic/>\n  </features>"))

    /// UEFI with Secure Boot (autoselected firmware), an installer ISO booted first, direct
    /// kernel boot and every platform device.
    static let platformDomain: DomainModel = {
        var model = DomainModel(
            name: "installer", memory: .mib(256), machine: "q35", firmware: .uefi,
            disks: [
                DiskModel(target: "vda", source: .volume(pool: "images", volume: "web-1-root.qcow2")),
                DiskModel(target: "sda", bus: .sata, cdrom: true, source: .file(path: "/srv/iso/debian-12-netinst.iso"), readonly: true),
            ],
            graphics: .vnc)
        model.platform = DomainPlatform(
            bootOrder: [.cdrom, .disk, .network], bootMenu: true,
            kernel: .present(KernelBoot(path: "/srv/boot/vmlinuz", initrd: "/srv/boot/initrd.img", cmdline: "console=ttyS0 ks=\"a&b\"")),
            secureBoot: true, tpm: .present(TPMDevice(model: .crb, version: .v2_0)), guestAgent: true,
            rng: .present(RNGDevice(source: .urandom, bytesPerSecond: 1024)), watchdog: .present(WatchdogDevice(model: .ib700, action: .poweroff)),
            video: VideoDevice(model: .virtio), tablet: true,
            hostDevices: [.pci(address: "0000:03:00.0"), .usb(vendor: "0x1d6b", product: "0x0002")])
        return model
    }()

    /// UEFI from an explicit loader with Secure Boot and an NVRAM template, a TPM 1.2.
    static let platformLoaderDomain: DomainModel = {
        var model = DomainModel(name: "sb-loader", memory: .mib(128), machine: "q35", firmware: .uefi,
                                loader: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", serialConsole: false)
        model.platform = DomainPlatform(secureBoot: true, nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
                                        tpm: .present(TPMDevice(model: .tis, version: .v1_2)), video: VideoDevice(model: .qxl, vram: .mib(32)))
        return model
    }()

    /// What `Samples.qemuDomain` has of the platform fields: libvirt's boot order and video device,
    /// and an rng.
    static let qemuDomainPlatform = DomainPlatform(bootOrder: [.disk], rng: .present(RNGDevice(source: .urandom)),
                                                   video: VideoDevice(model: .vga, vram: .mib(16)))
    /// Raw XML at every kind of path: inside containers (`os`, `cpu`, `devices`), at the top
    /// level, a disk of a type the model has no field for, and text that needs escaping.
    static let hatchDomain = DomainModel(
        name: "hatch", memory: .mib(64), cpuMode: .hostPassthrough, serialConsole: false,
        extraXML: ExtraXML(
            devices: "<panic model='isa'/><disk type='block' device='lun'><source dev='/dev/vg/a&amp;b'/><target dev='vdz' bus='virtio'/></disk>",
            domain: "<os><bios rebootTimeout='3000'/></os><cpu><cache mode='passthrough'/></cpu>"
                + "<clock offset='localtime'/><on_crash>restart</on_crash><devices><memballoon model='none'/></devices>"))

    static let domains: [(String, DomainModel)] = [
        ("domain-minimal", minimalDomain), ("domain-full", fullDomain), ("domain-uefi-auto", uefiAutoDomain),
        ("domain-uefi-loader", uefiLoaderDomain), ("domain-hostile", hostileDomain), ("domain-extra-xml", extraXMLDomain),
        ("domain-platform", platformDomain), ("domain-platform-loader", platformLoaderDomain),
        ("domain-hatch", hatchDomain),
    ]

    static let natNetwork = NetworkModel(
        name: "default", mode: .nat,
        ipv4: IPv4Config(address: "192.168.122.1", prefix: 24, dhcpStart: "192.168.122.100", dhcpEnd: "192.168.122.199",
                         hosts: [DHCPHost(mac: "52:54:00:12:34:56", ip: "192.168.122.10", name: "web-1"),
                                 DHCPHost(mac: "52:54:00:00:00:02", ip: "192.168.122.11")]))
    static let routedNetwork = NetworkModel(
        name: "routed", mode: .routed, bridge: "virbr7", ipv4: IPv4Config(address: "10.7.0.1", prefix: 16))
    static let isolatedNetwork = NetworkModel(name: "isolated", mode: .isolated, ipv4: IPv4Config(address: "10.9.0.1", prefix: 24),
                                              autostart: false)
    static let bridgeNetwork = NetworkModel(name: "lan", mode: .bridge, bridge: "br0")
    static let hostileNetwork = NetworkModel(
        name: "net&<'\">", mode: .nat,
        ipv4: IPv4Config(address: "192.168.5.1", prefix: 24,
                         hosts: [DHCPHost(mac: "52:54:00:00:00:09", ip: "192.168.5.9", name: "a&b")]))

    static let hatchNetwork = NetworkModel(
        name: "hatch", mode: .nat, ipv4: IPv4Config(address: "10.8.0.1", prefix: 24),
        extraXML: "<port isolated='yes'/><dns><txt name='x' value='a&amp;b'/></dns><route address='10.20.0.0' prefix='16' gateway='10.8.0.254'/>")

    /// IPv4 and IPv6 with DHCPv6 ranges and hosts (by DUID and by name).
    static let dualStackNetwork = NetworkModel(
        name: "dual", mode: .nat, ipv4: IPv4Config(address: "192.168.123.1", prefix: 24, hosts: [DHCPHost(mac: "52:54:00:00:00:07", ip: "192.168.123.7")]),
        ipv6: IPv6Config(address: "fd00:10:1::1", prefix: 64,
                         dhcpRanges: [DHCPRange(start: "fd00:10:1::100", end: "fd00:10:1::1ff"), DHCPRange(start: "fd00:10:1::300", end: "fd00:10:1::3ff")],
                         hosts: [DHCPv6Host(id: "0:3:0:1:52:54:0:10:0:1", name: "web-1", ip: "fd00:10:1::10"),
                                 DHCPv6Host(name: "db-1", ip: "fd00:10:1::11")]))

    /// DNS: a local-only domain, host records (IPv4 and IPv6), forwarders, and raw XML in <dns>.
    static let dnsNetwork = NetworkModel(
        name: "dns", mode: .nat, ipv4: IPv4Config(address: "192.168.124.1", prefix: 24),
        dns: NetworkDNS(domain: "lab.example", localOnly: true,
                        hosts: [DNSHost(ip: "192.168.124.5", names: ["db", "db.lab.example"]), DNSHost(ip: "fd00:10:2::5", names: ["db6"])],
                        forwarders: [DNSForwarder(addr: "192.0.2.53"), DNSForwarder(domain: "corp.example", addr: "192.0.2.54"),
                                     DNSForwarder(domain: "local.test")],
                        forwardPlainNames: false),
        extraXML: "<dns><txt name='lab' value='managed'/></dns>")

    /// NAT out of one device, an MTU, shaping and port groups (the default one shaped).
    static let linkNetwork = NetworkModel(
        name: "link", mode: .nat, ipv4: IPv4Config(address: "192.168.125.1", prefix: 24), mtu: 9000, uplink: "eth0",
        bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(1000), peak: .kib(2000), burst: .kib(512)),
                                      outbound: BandwidthRate(average: .kib(500))),
        portgroups: [NetworkPortgroup(name: "web", isDefault: true, bandwidth: InterfaceBandwidth(inbound: BandwidthRate(average: .kib(100)))),
                     NetworkPortgroup(name: "db")])

    /// Routed without firewall rules from libvirt.
    static let openNetwork = NetworkModel(name: "open", mode: .open, ipv4: IPv4Config(address: "10.11.0.1", prefix: 24), mtu: 1400)

    /// A host's Open vSwitch bridge with VLAN port groups (an access port and a trunk).
    static let ovsNetwork = NetworkModel(
        name: "ovs", mode: .bridge, bridge: "ovsbr0",
        portgroups: [NetworkPortgroup(name: "v42", isDefault: true, vlan: InterfaceVLAN(tags: [42])),
                     NetworkPortgroup(name: "trunk", vlan: InterfaceVLAN(tags: [10, 20], trunk: true, native: 10))],
        extraXML: "<virtualport type='openvswitch'/>")

    static let networks: [(String, NetworkModel)] = [
        ("network-nat", natNetwork), ("network-routed", routedNetwork), ("network-isolated", isolatedNetwork),
        ("network-bridge", bridgeNetwork), ("network-hostile", hostileNetwork), ("network-hatch", hatchNetwork),
        ("network-ipv6", dualStackNetwork), ("network-dns", dnsNetwork),
        ("network-link", linkNetwork), ("network-open", openNetwork), ("network-ovs-portgroups", ovsNetwork),
    ]

    static let dirPool = PoolModel(name: "images", type: .dir, path: "/var/lib/virtsync/images")
    static let logicalPool = PoolModel(name: "fast", type: .logical, path: "/dev/vg_fast", volumeGroup: "vg_fast",
                                       devices: ["/dev/sdb", "/dev/sdc"], autostart: false)
    static let netfsPool = PoolModel(name: "shared", type: .netfs, path: "/mnt/shared", sourceHost: "nas.example",
                                     sourceDir: "/export/vms")
    static let hostilePool = PoolModel(name: "p&<'\">", type: .dir, path: "/srv/a&b <c> 'd' \"e\"")

    static let hatchPool = PoolModel(name: "hatch", type: .dir, path: "/srv/hatch",
                                     extraXML: "<target><permissions><mode>0750</mode></permissions></target>")
    /// A netfs pool whose raw XML replaces the builder's `<format type='auto'/>`.
    static let hatchNetfsPool = PoolModel(name: "hatch-nfs", type: .netfs, path: "/mnt/nfs", sourceHost: "nas.example",
                                          sourceDir: "/export", extraXML: "<source><format type='nfs'/><protocol ver='4'/></source>")

    static let pools: [(String, PoolModel)] = [
        ("pool-dir", dirPool), ("pool-logical", logicalPool), ("pool-netfs", netfsPool), ("pool-hostile", hostilePool),
        ("pool-hatch", hatchPool), ("pool-hatch-netfs", hatchNetfsPool), ("pool-fs", fsPool), ("pool-fs-auto", fsAutoPool),
        ("pool-iscsi", iscsiPool), ("pool-iscsi-auth", iscsiAuthPool), ("pool-rbd", rbdPool), ("pool-rbd-auth", rbdAuthPool),
        ("pool-zfs", zfsPool),
    ]

    /// The UUID of a pool's secret object, as the normalizer derives it.
    static func poolSecret(_ pool: String, _ type: String) -> String {
        SecretObjectModel.uuid(consumer: SecretObjectModel.consumer(pool: pool, type: type))
    }

    /// An iSCSI target's LUNs, logged in with the host's own initiator name and no CHAP.
    static let iscsiPool = PoolModel(name: "san", type: .iscsi, path: "/dev/disk/by-path", devices: ["iqn.2013-06.com.example:vms"],
                                     sourceHost: "san.example.net")
    /// The same with a portal port, an initiator and CHAP.
    static let iscsiAuthPool = PoolModel(name: "san", type: .iscsi, path: "/dev/disk/by-path", devices: ["iqn.2013-06.com.example:vms"],
                                         sourceHost: "[fd00::5]:3260", initiator: "iqn.2013-06.com.example:host-1",
                                         auth: DiskAuth(username: "chap-user", secretType: "iscsi", secretUUID: poolSecret("san", "iscsi")))
    /// A Ceph pool without cephx.
    static let rbdPool = PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "libvirt-pool",
                                   sourceHosts: ["mon-1.example.net", "mon-2.example.net:6789"])
    /// The same with cephx.
    static let rbdAuthPool = PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "libvirt-pool",
                                       sourceHosts: ["mon-1.example.net", "mon-2.example.net:6789", "[fd00::3]:3300"],
                                       auth: DiskAuth(username: "libvirt", secretType: "ceph", secretUUID: poolSecret("ceph", "ceph")))
    /// An existing zpool with its vdevs.
    static let zfsPool = PoolModel(name: "tank", type: .zfs, path: "", devices: ["/dev/sdb", "/dev/sdc"], sourceName: "tank")

    /// A block device with an ext4 file system, mounted at the path.
    static let fsPool = PoolModel(name: "scratch", type: .fs, path: "/var/lib/virtsync/scratch", devices: ["/dev/vdb1"], sourceFormat: "ext4")
    /// The same, with the file system left to libvirt's probe.
    static let fsAutoPool = PoolModel(name: "scratch", type: .fs, path: "/var/lib/virtsync/scratch", devices: ["/dev/disk/by-label/scratch"])

    static let baseVolume = VolumeModel(pool: "images", name: "debian-12.qcow2", capacity: .gib(2), format: .qcow2)
    static let rawVolume = VolumeModel(pool: "images", name: "data.raw", capacity: .mib(100), format: .raw)
    static let overlayVolume = VolumeModel(pool: "images", name: "web-1-root.qcow2", capacity: .gib(10), format: .qcow2,
                                           source: .backing(pool: "images", volume: "debian-12.qcow2"))
    static let cloneVolume = VolumeModel(pool: "images", name: "web-2-root.qcow2", capacity: .gib(2), format: .qcow2,
                                         source: .clone(pool: "images", volume: "debian-12.qcow2"))
    static let seedVolume = VolumeModel(pool: "images", name: "web-1-seed.iso", capacity: .kib(368), format: .iso,
                                        source: .generated(digest: "abc"), content: Array(repeating: 0x20, count: 368 * 1024))
    static let hostileVolume = VolumeModel(pool: "images", name: "v&<'\">.qcow2", capacity: .mib(1), format: .qcow2)
}
