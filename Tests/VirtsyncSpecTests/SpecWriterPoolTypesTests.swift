import Testing
import VirtsyncCore
import VirtsyncSpec

/// `import` of iscsi, rbd and zfs pools (spec 1.1): written with their sources and read back the
/// same; the key of an authenticating pool is a comment a human fills in, and an iSCSI pool's
/// LUNs are not declared.
@Suite("spec writer: iscsi, rbd and zfs pools")
struct SpecWriterPoolTypesTests {
    static let uuid = "5b0c7d4e-1111-4222-8333-444455556666"
    static let san = PoolModel(name: "san", type: .iscsi, path: "/dev/disk/by-path", devices: ["iqn.2013-06.com.example:vms"],
                               sourceHost: "san.example.net:3260", initiator: "iqn.2013-06.com.example:host-1",
                               auth: DiskAuth(username: "chap-user", secretType: "iscsi", secretUUID: uuid))
    static let ceph = PoolModel(name: "ceph", type: .rbd, path: "", sourceName: "vms", sourceHosts: ["mon-1.example.net", "mon-2.example.net:6789"])
    static let tank = PoolModel(name: "tank", type: .zfs, path: "/dev/zvol/tank", devices: ["/dev/sdb"], sourceName: "tank")

    @Test("each pool is written with its source and read back the same; auth is a comment; LUNs are not declared")
    func roundTrip() throws {
        let set = ImportSet(pools: [
            ImportedPool(model: Self.san, volumes: [ImportedVolume(model: VolumeModel(pool: "san", name: "unit:0:0:1", capacity: .gib(1), format: .raw))]),
            ImportedPool(model: Self.ceph, volumes: [ImportedVolume(model: VolumeModel(pool: "ceph", name: "data", capacity: .gib(2), format: .raw))]),
            ImportedPool(model: Self.tank),
        ])
        let (files, result, diagnostics, _) = try SpecWriterTests.roundTrip(set)
        #expect(diagnostics.errors.isEmpty, "\(diagnostics)\n\(SpecWriterTests.dump(files))")
        let text = try #require(files.first { $0.path == "pools.yaml" }?.text)
        #expect(text.contains("  # auth: {username: chap-user, secret: SECRET} (the key is in secret object \(Self.uuid))"), "\(text)")
        #expect(text.contains("its volumes are the target's LUNs and cannot be declared"), "\(text)")
        #expect(text.contains("name: ceph\nadopt: true\ntype: rbd\nsource:\n  name: vms\n  monitors:\n    - mon-1.example.net\n"), "\(text)")
        let host = try #require(result.desired?.host(named: "local"))
        var san = Self.san
        san.auth = nil
        var tank = Self.tank
        tank.path = ""
        #expect(host.pools == [Self.ceph, san, tank])
        #expect(host.volumes.map(\.key) == ["ceph/data"])
    }
}
