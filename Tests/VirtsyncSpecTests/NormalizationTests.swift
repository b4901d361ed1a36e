import Foundation
import Testing
import VirtsyncCore
import VirtsyncISO
import VirtsyncSpec

/// The good multi-file spec under `Fixtures/good/spec`, normalized and checked field by field.
@Suite("normalization of a good spec")
struct NormalizationTests {
    let desired: DesiredState
    let diagnostics: Diagnostics

    init() throws {
        let (result, diagnostics) = Fixtures.load(Fixtures.root.appendingPathComponent("good/spec"), commit: "abc123")
        self.diagnostics = diagnostics
        desired = try #require(result.desired, "\(diagnostics)").placed()
    }

    private func host(_ name: String) throws -> DesiredHost {
        try #require(desired.host(named: name))
    }

    @Test("a good spec loads without any diagnostic")
    func clean() {
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
    }

    @Test("hosts keep their URI and capacity, in name order, and the commit is passed through")
    func hosts() throws {
        #expect(desired.hosts.map(\.name) == ["host-a", "host-b"])
        let a = try host("host-a")
        #expect(a.uri == "qemu+ssh://root@host-a/system")
        #expect(a.memoryCapacity == .gib(64))
        #expect(a.cpuCapacity == 32)
        let b = try host("host-b")
        #expect(b.memoryCapacity == nil)
        #expect(b.cpuCapacity == nil)
        #expect(desired.commit == "abc123")
        #expect(desired.specDigest.count == 64)
    }

    @Test("settings map maxDeletePercent to a fraction")
    func settings() {
        #expect(desired.settings == SpecSettings(prune: true, maxDeleteFraction: 0.25, deleteVolumesWithVM: false))
    }

    @Test("networks go to every host unless they name their hosts, with defaults filled in")
    func networks() throws {
        let lab = NetworkModel(
            name: "lab", mode: .nat, bridge: "virbr-lab",
            ipv4: IPv4Config(address: "192.168.100.1", prefix: 24, dhcpStart: "192.168.100.100", dhcpEnd: "192.168.100.199",
                             hosts: [DHCPHost(mac: "52:54:00:10:00:01", ip: "192.168.100.10", name: "web-1"),
                                     DHCPHost(mac: "52:54:00:aa:00:02", ip: "192.168.100.11", name: "db-1")]),
            autostart: true)
        let isolated = NetworkModel(name: "isolated-a", mode: .isolated, bridge: nil, ipv4: nil, autostart: false)
        #expect(try host("host-a").networks == [isolated, lab])
        #expect(try host("host-b").networks == [lab])
    }

    @Test("pools are placed on their hosts; a logical pool defaults its group and path")
    func pools() throws {
        let vms = PoolModel(name: "vms", type: .dir, path: "/var/lib/virtsync/pools/vms", autostart: true)
        let lvm = PoolModel(name: "lvm", type: .logical, path: "/dev/lvm", volumeGroup: "lvm", devices: ["/dev/sdb"])
        #expect(try host("host-a").pools == [vms])
        #expect(try host("host-b").pools == [lvm, vms])
    }

    @Test("volumes come from pools and from disks with a size, with units, formats and sources")
    func volumes() throws {
        let poolVolumes = [
            VolumeModel(pool: "vms", name: "base.qcow2", capacity: .gib(1), format: .qcow2),
            VolumeModel(pool: "vms", name: "copy.qcow2", capacity: .mib(1536), format: .qcow2,
                        source: .clone(pool: "vms", volume: "base.qcow2")),
            VolumeModel(pool: "vms", name: "scratch.img", capacity: .gib(20), format: .raw),
        ]
        let a = try host("host-a").volumes.filter { $0.format != .iso }
        #expect(a == poolVolumes + [
            VolumeModel(pool: "vms", name: "web-1-data", capacity: .mib(512), format: .raw),
            VolumeModel(pool: "vms", name: "web-1-root", capacity: .gib(10), format: .qcow2,
                        source: .backing(pool: "vms", volume: "base.qcow2")),
        ])
        let b = try host("host-b").volumes.filter { $0.format != .iso }
        #expect(b == [
            VolumeModel(pool: "lvm", name: "data", capacity: ByteSize(bytes: 100_000_000_000), format: .raw),
            VolumeModel(pool: "lvm", name: "db-1-root", capacity: .gib(8), format: .raw),
        ] + poolVolumes.prefix(2) + [
            VolumeModel(pool: "vms", name: "db-1-disk2", capacity: .gib(4), format: .qcow2,
                        source: .clone(pool: "vms", volume: "copy.qcow2")),
        ] + poolVolumes.suffix(1))
    }

    @Test("a VM's fields, defaults and disk targets are normalized")
    func webDomain() throws {
        let web = try #require(try host("host-a").domains.first)
        #expect(try host("host-a").domains.count == 1)
        #expect(web.name == "web-1")
        #expect(web.uuid == "4f6b0c56-2a1e-4e1a-9f51-2d7c3b1e8a90")
        #expect(web.vcpus == 2)
        #expect(web.maxVcpus == 4)
        #expect(web.memory == .gib(2))
        #expect(web.maxMemory == .gib(4))
        #expect(web.machine == "q35")
        #expect(web.firmware == .uefi)
        #expect(web.loader == nil)
        #expect(web.cpuMode == .hostPassthrough)
        #expect(web.graphics == .vnc)
        #expect(web.serialConsole)
        #expect(!web.autostart)
        #expect(web.power == .running)
        #expect(web.restartForUpdates)
        #expect(web.extraXML == ExtraXML(devices: "<watchdog model='i6300esb' action='reset'/>\n", domain: nil))
        let seed = try #require(try host("host-a").volumes.first { $0.format == .iso })
        #expect(web.disks == [
            DiskModel(target: "vda", bus: .virtio, source: .volume(pool: "vms", volume: "web-1-root")),
            DiskModel(target: "vdb", bus: .virtio, source: .volume(pool: "vms", volume: "scratch.img")),
            DiskModel(target: "sda", bus: .sata, cdrom: true, source: .file(path: "/srv/iso/tools.iso"), readonly: true),
            DiskModel(target: "sdb", bus: .scsi, source: .volume(pool: "vms", volume: "web-1-data")),
            DiskModel(target: "vdc", bus: .virtio, source: .volume(pool: "vms", volume: "legacy.img")),
            DiskModel(target: "sdc", bus: .sata, cdrom: true, source: .volume(pool: "vms", volume: seed.name), readonly: true),
        ])
        #expect(web.interfaces == [
            InterfaceModel(source: .network("lab"), mac: "52:54:00:10:00:01", model: "virtio", linkUp: true),
            InterfaceModel(source: .bridge("br0"), mac: nil, model: "e1000", linkUp: false),
        ])
    }

    @Test("defaults: one vCPU, no ceilings, no graphics, autostart and power as written")
    func dbDomain() throws {
        let db = try #require(try host("host-b").domains.first)
        #expect(db.name == "db-1")
        #expect(db.uuid == nil)
        #expect(db.vcpus == 1)
        #expect(db.maxVcpus == nil)
        #expect(db.memory == .gib(1))
        #expect(db.maxMemory == nil)
        #expect(db.machine == nil)
        #expect(db.firmware == .bios)
        #expect(db.cpuMode == nil)
        #expect(db.graphics == GraphicsType.none)
        #expect(!db.serialConsole)
        #expect(db.autostart)
        #expect(db.power == .stopped)
        #expect(!db.restartForUpdates)
        #expect(db.extraXML.isEmpty)
        #expect(db.disks.map(\.target) == ["vda", "hda", "sda"])
        #expect(db.disks[1].bus == .ide)
    }

    @Test("cloud-init builds a cidata seed volume named by its digest, from a file of the spec")
    func seedFromFile() throws {
        let userData = try String(contentsOf: Fixtures.root.appendingPathComponent("good/spec/cloud/web-user-data.yaml"),
                                  encoding: .utf8)
        let image = ISO9660.image(volumeID: "cidata", files: [
            ("meta-data", Array("instance-id: web-1\nlocal-hostname: web-1\n".utf8)),
            ("user-data", Array(userData.utf8)),
        ])
        let digest = Digest.sha256Hex(image)
        let seed = try #require(try host("host-a").volumes.first { $0.format == .iso })
        #expect(seed == VolumeModel(pool: "vms", name: "web-1-cidata-\(digest.prefix(8)).iso",
                                    capacity: ByteSize(bytes: UInt64(image.count)), format: .iso,
                                    source: .generated(digest: digest), content: image))
    }

    @Test("inline cloud-init data and mappings are written into the seed, in the pool asked for")
    func seedInline() throws {
        let image = ISO9660.image(volumeID: "cidata", files: [
            ("meta-data", Array("instance-id: db-1-v2\n".utf8)),
            ("network-config", Array("version: 2\nethernets:\n  eth0:\n    dhcp4: true\n".utf8)),
            ("user-data", Array("#cloud-config\npackages: [postgresql]\n".utf8)),
        ])
        let digest = Digest.sha256Hex(image)
        let seed = try #require(try host("host-b").volumes.first { $0.format == .iso })
        #expect(seed.pool == "vms")
        #expect(seed.name == "db-1-cidata-\(digest.prefix(8)).iso")
        #expect(seed.content == image)
        let db = try #require(try host("host-b").domains.first)
        #expect(db.disks.last == DiskModel(target: "sda", bus: .sata, cdrom: true,
                                           source: .volume(pool: "vms", volume: seed.name), readonly: true))
    }

    @Test("the spec digest changes with any file and not with the order files are given in")
    func digest() throws {
        let files = [SpecFile(path: "a.yaml", bytes: Array("apiVersion: virtsync/v1\nkind: Settings\n".utf8)),
                     SpecFile(path: "notes.txt", bytes: Array("x".utf8))]
        let one = try #require(SpecLoader.load(files: files).desired)
        let two = try #require(SpecLoader.load(files: files.reversed()).desired)
        var changed = files
        changed[1].bytes = Array("y".utf8)
        let three = try #require(SpecLoader.load(files: changed).desired)
        #expect(one.specDigest == two.specDigest)
        #expect(one.specDigest != three.specDigest)
        #expect(one.hosts.map(\.name) == ["local"])
        #expect(one.hosts.first?.uri == nil)
    }
}
