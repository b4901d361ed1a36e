import Testing
import VirtsyncCore
import VirtsyncSpec

/// Pool types in the spec: `fs` declared with its device and file system (iscsi, rbd and zfs:
/// `PoolSourceSpecTests`).
@Suite("pool types in the spec")
struct PoolTypesSpecTests {
    private func load(_ text: String) -> SpecLoadResult {
        SpecLoader.load(files: [SpecFile(path: "pools.yaml", bytes: Array(("apiVersion: virtsync/v1\nkind: StoragePool\n" + text).utf8))])
    }

    @Test("an fs pool reaches the model with its device, file system and mount point")
    func decodes() throws {
        let result = load("""
            name: scratch
            type: fs
            path: /srv/scratch
            source: {device: /dev/vdb1, format: xfs}
            volumes:
              - {name: data.raw, size: 1GiB, format: raw}
            """)
        let pool = try #require(result.desired?.hosts.first?.pools.first, "\(result.diagnostics)")
        #expect(pool == PoolModel(name: "scratch", type: .fs, path: "/srv/scratch", devices: ["/dev/vdb1"], sourceFormat: "xfs"))
        #expect(result.desired?.hosts.first?.volumes.first?.name == "data.raw")
    }

    @Test("an fs pool without a format leaves it to libvirt's probe")
    func probed() throws {
        let result = load("name: scratch\ntype: fs\npath: /srv/scratch\nsource: {device: /dev/vdb1}\n")
        let pool = try #require(result.desired?.hosts.first?.pools.first, "\(result.diagnostics)")
        #expect(pool.sourceFormat == nil && pool.devices == ["/dev/vdb1"])
    }

    @Test("mistakes are reported at their keys with file and line")
    func mistakes() {
        let missing = load("name: a\ntype: fs\npath: /srv/a\n").diagnostics.description
        #expect(missing.contains("pools.yaml:1:1: error: StoragePool[a].source: missing required key 'source'"), "\(missing)")
        let wrong = load("""
            name: b
            type: fs
            path: /srv/b
            source: {device: vdb1, format: ntfs, dir: /x}
            """).diagnostics.description
        #expect(wrong.contains("StoragePool[b].source.device"), "\(wrong)")
        #expect(wrong.contains("pools.yaml:6:32: error: StoragePool[b].source.format: invalid value 'ntfs'; expected one of auto, ext2, ext3, ext4, xfs, btrfs, vfat"), "\(wrong)")
        #expect(wrong.contains("StoragePool[b].source.dir: 'dir' is only allowed in the source of a netfs pool"), "\(wrong)")
        let netfs = load("name: c\ntype: netfs\npath: /srv/c\nsource: {host: nas, dir: /e, device: /dev/x}\n").diagnostics.description
        #expect(netfs.contains("StoragePool[c].source.device: 'device' is only allowed in the source of an fs pool"), "\(netfs)")
    }

    @Test("an unknown pool type names every declarable one")
    func unknownType() {
        let text = load("name: d\ntype: gluster\npath: /srv/d\n").diagnostics.description
        #expect(text.contains("pools.yaml:4:7: error: StoragePool[d].type: invalid value 'gluster'; expected one of dir, logical, netfs, fs, iscsi, rbd, zfs"), "\(text)")
    }
}
