import Testing
import VirtsyncCore
@testable import VirtsyncLibvirt

/// Pool types beyond dir, logical and netfs: their definitions render and parse back to the same
/// model, as virtsync writes them and as libvirt writes them.
@Suite("Pool types: fs, iscsi, rbd and zfs")
struct PoolTypesXMLTests {
    @Test("an fs pool renders and parses back to the same model; a probed file system reads as none given")
    func fsRoundTrip() throws {
        for model in [Models.fsPool, Models.fsAutoPool] {
            let parsed = try LibvirtXML.parsePool(LibvirtXML.pool(model))
            var expected = model
            expected.autostart = false
            #expect(parsed.model == expected)
        }
    }

    /// Definitions as libvirt writes them (from libvirt's documentation of the pool formats).
    static let observed: [(String, PoolModel)] = [
        ("""
        <pool type='iscsi'><name>san</name><uuid>1b7d8c1e-0d43-4a7b-9d2a-6c0d3b1f2e01</uuid>
          <source><host name='iscsi.example.net'/><device path='iqn.2013-06.com.example:iscsi-pool'/>
            <initiator><iqn name='iqn.2013-06.com.example:host-1'/></initiator></source>
          <target><path>/dev/disk/by-path</path></target></pool>
        """, PoolModel(name: "san", type: .iscsi, path: "/dev/disk/by-path", devices: ["iqn.2013-06.com.example:iscsi-pool"],
                       sourceHost: "iscsi.example.net", initiator: "iqn.2013-06.com.example:host-1", autostart: false)),
        ("""
        <pool type='rbd'><name>ceph</name><uuid>2b7d8c1e-0d43-4a7b-9d2a-6c0d3b1f2e02</uuid>
          <source><name>libvirt-pool</name><host name='mon-1.example.net' port='6789'/><host name='mon-2.example.net'/>
            <auth username='libvirt' type='ceph'><secret usage='client.libvirt secret'/></auth></source></pool>
        """, PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "libvirt-pool",
                       sourceHosts: ["mon-1.example.net:6789", "mon-2.example.net"],
                       auth: DiskAuth(username: "libvirt", secretType: "ceph", secretUUID: ""), autostart: false)),
        ("""
        <pool type='iscsi'><name>chap</name>
          <source><host name='fd00::5' port='3260'/><device path='iqn.2013-06.com.example:vms'/>
            <auth type='chap' username='chap-user'><secret uuid='5B0C7D4E-1111-4222-8333-444455556666'/></auth></source>
          <target><path>/dev/disk/by-path</path></target></pool>
        """, PoolModel(name: "chap", type: .iscsi, path: "/dev/disk/by-path", devices: ["iqn.2013-06.com.example:vms"],
                       sourceHost: "[fd00::5]:3260",
                       auth: DiskAuth(username: "chap-user", secretType: "iscsi", secretUUID: "5b0c7d4e-1111-4222-8333-444455556666"),
                       autostart: false)),
        ("""
        <pool type='zfs'><name>tank</name><uuid>3b7d8c1e-0d43-4a7b-9d2a-6c0d3b1f2e03</uuid>
          <source><name>tank</name><device path='/dev/sdb'/><device path='/dev/sdc'/></source></pool>
        """, PoolModel(name: "tank", type: .zfs, path: "", devices: ["/dev/sdb", "/dev/sdc"], sourceName: "tank", autostart: false)),
    ]

    @Test("iscsi, rbd and zfs definitions as libvirt writes them are read with their sources, and render back to the same model",
          arguments: observed.indices)
    func observedTypes(_ index: Int) throws {
        let (xml, expected) = Self.observed[index]
        let parsed = try LibvirtXML.parsePool(xml)
        #expect(parsed.model == expected)
        #expect(try LibvirtXML.parsePool(LibvirtXML.pool(parsed.model)).model == expected)
    }

    @Test("iscsi, rbd and zfs pools as virtsync writes them parse back to the same model",
          arguments: [Models.iscsiPool, Models.iscsiAuthPool, Models.rbdPool, Models.rbdAuthPool, Models.zfsPool])
    func declaredRoundTrip(_ model: PoolModel) throws {
        var expected = model
        expected.autostart = false
        #expect(try LibvirtXML.parsePool(LibvirtXML.pool(model)).model == expected)
    }

    @Test("the auth secret is named by UUID with libvirt's auth type, never with a value")
    func authElement() {
        let rbd = LibvirtXML.pool(Models.rbdAuthPool)
        #expect(rbd.contains("<auth type='ceph' username='libvirt'>"), "\(rbd)")
        #expect(rbd.contains("<secret uuid='\(Models.poolSecret("ceph", "ceph"))'/>"), "\(rbd)")
        #expect(LibvirtXML.pool(Models.iscsiAuthPool).contains("<auth type='chap' username='chap-user'>"))
        #expect(!rbd.contains("<target>"))
    }

    @Test("rbd and zfs volumes are created without a format element (an RBD image, a zvol)")
    func blockVolumes() {
        for type in [PoolType.rbd, .zfs, .logical] {
            #expect(!LibvirtXML.volume(Models.rawVolume, poolType: type).contains("<format"))
        }
    }

    @Test("a pool of a type the model lacks still throws, and the session skips it")
    func unknownType() {
        #expect(throws: LibvirtXMLError.self) {
            try LibvirtXML.parsePool("<pool type='gluster'><name>g</name><source><name>vol</name></source></pool>")
        }
    }
}
