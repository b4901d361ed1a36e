import Testing
import VirtsyncCore
@testable import VirtsyncLibvirt

/// Pools of the types a spec cannot declare yet are observed: their definitions parse (and
/// render back to the same model), so plans see them and their volumes instead of skipping them.
@Suite("Pool types: fs declared, iscsi, rbd and zfs observed")
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
                       sourceHost: "iscsi.example.net", autostart: false)),
        ("""
        <pool type='rbd'><name>ceph</name><uuid>2b7d8c1e-0d43-4a7b-9d2a-6c0d3b1f2e02</uuid>
          <source><name>libvirt-pool</name><host name='mon-1.example.net' port='6789'/><host name='mon-2.example.net'/>
            <auth username='libvirt' type='ceph'><secret usage='client.libvirt secret'/></auth></source></pool>
        """, PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "libvirt-pool",
                       sourceHosts: ["mon-1.example.net:6789", "mon-2.example.net"], autostart: false)),
        ("""
        <pool type='zfs'><name>tank</name><uuid>3b7d8c1e-0d43-4a7b-9d2a-6c0d3b1f2e03</uuid>
          <source><name>tank</name><device path='/dev/sdb'/><device path='/dev/sdc'/></source></pool>
        """, PoolModel(name: "tank", type: .zfs, path: "", devices: ["/dev/sdb", "/dev/sdc"], sourceName: "tank", autostart: false)),
    ]

    @Test("iscsi, rbd and zfs definitions are observed with their sources, and render back to the same model",
          arguments: observed.indices)
    func observedTypes(_ index: Int) throws {
        let (xml, expected) = Self.observed[index]
        let parsed = try LibvirtXML.parsePool(xml)
        #expect(parsed.model == expected)
        #expect(try LibvirtXML.parsePool(LibvirtXML.pool(parsed.model)).model == expected)
    }

    @Test("a pool of a type the model lacks still throws, and the session skips it")
    func unknownType() {
        #expect(throws: LibvirtXMLError.self) {
            try LibvirtXML.parsePool("<pool type='gluster'><name>g</name><source><name>vol</name></source></pool>")
        }
    }
}
