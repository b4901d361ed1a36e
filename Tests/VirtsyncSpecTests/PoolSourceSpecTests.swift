import Testing
import VirtsyncCore
import VirtsyncSpec

/// iscsi, rbd and zfs pools in the spec (format 1.1): their sources, the authentication that
/// names a Secret (never a value), the volumes each may hold, and every mistake at its key.
@Suite("iscsi, rbd and zfs pools in the spec")
struct PoolSourceSpecTests {
    static let secret = "apiVersion: virtsync/v1\nkind: Secret\nname: ceph-key\nhostFile: ceph/client.libvirt\n---\n"

    private func load(_ text: String, secret: Bool = true) -> SpecLoadResult {
        let body = (secret ? Self.secret : "") + "apiVersion: virtsync/v1\nkind: StoragePool\n" + text
        return SpecLoader.load(files: [SpecFile(path: "pools.yaml", bytes: Array(body.utf8))])
    }

    /// The line of the pool document's first key (after the Secret and the header).
    static let first = 8

    @Test("an rbd pool reaches the model with its Ceph pool, monitors and a secret object of its own, held until the key is read")
    func rbd() throws {
        let result = load("""
            name: ceph
            type: rbd
            source:
              name: libvirt-pool
              monitors: [mon-1.example.net, "mon-2.example.net:6789", "[fd00::3]:6789"]
              auth: {username: libvirt, secret: ceph-key}
            volumes:
              - {name: data, size: 10GiB}
            """)
        let host = try #require(result.desired?.hosts.first, "\(result.diagnostics)")
        let consumer = SecretObjectModel.consumer(pool: "ceph", type: "ceph")
        #expect(consumer == "pool(ceph):ceph")
        let uuid = SecretObjectModel.uuid(consumer: consumer)
        #expect(host.pools == [PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "libvirt-pool",
                                         sourceHosts: ["mon-1.example.net", "mon-2.example.net:6789", "[fd00::3]:6789"],
                                         auth: DiskAuth(username: "libvirt", secretType: "ceph", secretUUID: uuid))])
        #expect(host.volumes.map(\.format) == [.raw])
        #expect(host.secretObjects.map(\.consumer) == [consumer])
        #expect(host.secretObjects.first?.usage == .named(type: "ceph", id: "virtsync/pool:ceph"))
        #expect(result.desired?.held.contains(HeldResource(kind: .pool, name: "ceph", reason: HeldResource.pendingReason)) == true)
        #expect(result.desired?.pendingVolumeSecrets[consumer]?.field == "StoragePool[ceph].source.auth.secret")
        #expect(!result.diagnostics.description.contains("not used"))
    }

    @Test("an iscsi pool reaches the model with its portal, target, initiator and CHAP; its path defaults to /dev/disk/by-path")
    func iscsi() throws {
        let result = load("""
            name: san
            type: iscsi
            source:
              host: "san.example.net:3260"
              target: iqn.2013-06.com.example:vms
              initiator: iqn.2013-06.com.example:host-1
              auth: {username: chap-user, secret: ceph-key}
            """)
        let pool = try #require(result.desired?.hosts.first?.pools.first, "\(result.diagnostics)")
        #expect(pool.path == "/dev/disk/by-path" && pool.sourceHost == "san.example.net:3260")
        #expect(pool.devices == ["iqn.2013-06.com.example:vms"] && pool.initiator == "iqn.2013-06.com.example:host-1")
        #expect(pool.auth?.secretType == "iscsi" && pool.auth?.username == "chap-user")
        #expect(result.desired?.hosts.first?.secretObjects.map(\.consumer) == ["pool(san):iscsi"])
    }

    @Test("a zfs pool reaches the model with its zpool and vdevs, and no path; an iscsi pool without auth has no object")
    func zfs() throws {
        let result = load("name: tank\ntype: zfs\nsource: {name: tank, devices: [/dev/sdb, /dev/sdc]}\nvolumes:\n  - {name: vm-1, size: 4GiB, format: raw}\n",
                          secret: false)
        let host = try #require(result.desired?.hosts.first, "\(result.diagnostics)")
        #expect(host.pools == [PoolModel(name: "tank", type: .zfs, path: "", devices: ["/dev/sdb", "/dev/sdc"], sourceName: "tank")])
        #expect(host.secretObjects.isEmpty && result.desired?.held.isEmpty == true)
        let plain = load("name: san\ntype: iscsi\nsource: {host: san.example.net, target: iqn.2013-06.com.example:vms}\n", secret: false)
        #expect(plain.desired?.hosts.first?.secretObjects.isEmpty == true, "\(plain.diagnostics)")
        #expect(plain.desired?.hosts.first?.pools.first?.auth == nil)
    }

    @Test("volumes of an iscsi pool are refused at their line: they are the target's LUNs")
    func iscsiVolumes() {
        let text = load("""
            name: san
            type: iscsi
            source: {host: san.example.net, target: iqn.2013-06.com.example:vms}
            volumes:
              - {name: lun-0, size: 1GiB}
            """, secret: false).diagnostics.description
        #expect(text.contains("pools.yaml:\(Self.first - 5 + 4):5: error: StoragePool[san].volumes[0]: an iscsi pool's volumes are the target's LUNs: they cannot be created or declared"), "\(text)")
    }

    @Test("a VM's disk cannot create a volume in an iscsi pool")
    func iscsiDiskVolume() {
        let text = load("""
            name: san
            type: iscsi
            source: {host: san.example.net, target: iqn.2013-06.com.example:vms}
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: web-1
            memory: 64MiB
            disks:
              - {volume: san/lun-0, size: 1GiB}
            """, secret: false).diagnostics.description
        #expect(text.contains("VirtualMachine[web-1].disks[0].size: pool san is an iscsi pool: its volumes are the target's LUNs and cannot be created"), "\(text)")
    }

    @Test("volumes of rbd and zfs pools are blank raw volumes of a size", arguments: ["rbd", "zfs"])
    func blockVolumes(_ type: String) {
        let source = type == "rbd" ? "{name: vms, monitors: [mon-1], auth: {username: u, secret: ceph-key}}" : "{name: tank}"
        let text = load("""
            name: p
            type: \(type)
            source: \(source)
            volumes:
              - {name: a, size: 1GiB, format: qcow2}
              - {name: b, size: 1GiB, clone: p/a}
              - {name: c, size: 1GiB, encryptionSecret: ceph-key}
              - {name: d, size: 1GiB, backing: p/a}
            """).diagnostics.description
        let article = type == "rbd" ? "an" : "a"
        #expect(text.contains("StoragePool[p].volumes[0].format: volumes of \(article) \(type) pool are raw"), "\(text)")
        #expect(text.contains("StoragePool[p].volumes[1].clone: a volume of \(article) \(type) pool is a blank raw volume of a size: it cannot have 'clone'"), "\(text)")
        #expect(text.contains("StoragePool[p].volumes[2].encryptionSecret: a volume of \(article) \(type) pool is a blank raw volume of a size: it cannot have 'encryptionSecret'"), "\(text)")
        #expect(text.contains("StoragePool[p].volumes[3].backing: volumes of \(article) \(type) pool cannot have a backing volume"), "\(text)")
    }

    @Test("mistakes are reported at their keys with file and line, and nothing reaches the model")
    func mistakes() {
        let result = load("""
            name: bad
            type: rbd
            path: /srv/x
            source:
              name: "a/b"
              monitors: ["mon-1:99999"]
              dir: /x
              auth: {username: "two words", secret: cepf-key}
            """)
        let text = result.diagnostics.description
        let line = Self.first
        #expect(result.desired == nil)
        #expect(text.contains("pools.yaml:\(line + 2):1: error: StoragePool[bad].path: an rbd pool has no path in libvirt (its volumes are RBD images)"), "\(text)")
        #expect(text.contains("pools.yaml:\(line + 4):9: error: StoragePool[bad].source.name: the Ceph pool: name 'a/b' must not contain '/'"), "\(text)")
        #expect(text.contains("pools.yaml:\(line + 5):14: error: StoragePool[bad].source.monitors[0]: 'mon-1:99999': the port must be 1 to 65535"), "\(text)")
        #expect(text.contains("pools.yaml:\(line + 6):3: error: StoragePool[bad].source.dir: 'dir' is only allowed in the source of a netfs pool"), "\(text)")
        #expect(text.contains("StoragePool[bad].source.auth.username: a user name is one word without quotes, '<' or '&'"), "\(text)")
        #expect(text.contains("StoragePool[bad].source.auth.secret: unknown secret 'cepf-key'; did you mean 'ceph-key'?"), "\(text)")

        let iscsi = load("""
            name: san
            type: iscsi
            source: {host: "san example", target: vms, initiator: "iqn.x y", monitors: [m], secret: x}
            """, secret: false).diagnostics.description
        #expect(iscsi.contains("pools.yaml:5:16: error: StoragePool[san].source.host: 'san example' is not a host name or address"), "\(iscsi)")
        #expect(iscsi.contains("StoragePool[san].source.target: 'vms' is not an iSCSI name: iqn.YYYY-MM.reversed.domain[:name]"), "\(iscsi)")
        #expect(iscsi.contains("StoragePool[san].source.initiator: 'iqn.x y' is not an iSCSI name"), "\(iscsi)")
        #expect(iscsi.contains("StoragePool[san].source.monitors: 'monitors' is only allowed in the source of an rbd pool"), "\(iscsi)")
        #expect(iscsi.contains("StoragePool[san].source.secret: unknown key 'secret'"), "\(iscsi)")

        let missing = load("name: m\ntype: zfs\nsource: {devices: [sdb]}\n---\napiVersion: virtsync/v1\nkind: StoragePool\nname: n\ntype: rbd\nsource: {name: vms}\n",
                           secret: false).diagnostics.description
        #expect(missing.contains("StoragePool[m].source.name: missing required key 'name'"), "\(missing)")
        #expect(missing.contains("StoragePool[m].source.devices[0]: path 'sdb' must be absolute"), "\(missing)")
        #expect(missing.contains("StoragePool[n].source.monitors: missing required key 'monitors'"), "\(missing)")
        #expect(missing.contains("warning: StoragePool[n].source: an rbd pool without 'auth' starts only where Ceph lets clients in without cephx"), "\(missing)")
    }

    @Test("a secret's value cannot be written in the spec: auth takes a Secret's name, and only username and secret")
    func noClearText() {
        let text = load("""
            name: ceph
            type: rbd
            source:
              name: vms
              monitors: [mon-1]
              auth: {username: libvirt, key: AQBabc==}
            """).diagnostics.description
        #expect(text.contains("StoragePool[ceph].source.auth.key: unknown key 'key'"), "\(text)")
        #expect(text.contains("StoragePool[ceph].source.auth.secret: missing required key 'secret'"), "\(text)")
    }
}
