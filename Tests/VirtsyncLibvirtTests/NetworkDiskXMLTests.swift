import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML
@testable import VirtsyncLibvirt

/// Block devices and network disks (rbd, iscsi, nbd) in libvirt XML: written, read back, and
/// converged on the test driver (block and nbd: the test driver has no secrets for auth).
@Suite("block and network disks in libvirt XML")
struct NetworkDiskXMLTests {
    static let rbd = NetworkDisk(protocol: .rbd, name: "vms/db-1", hosts: ["mon-1.example.net:6789", "[fd00::10]:6789"],
                                 auth: DiskAuth(username: "libvirt", secretType: "ceph", secretUUID: "5c3a1a0e-1f3b-8c2d-a4e5-0123456789ab"))
    static let iscsi = NetworkDisk(protocol: .iscsi, name: "iqn.2013-06.com.example:san/1", hosts: ["san.example.net:3260"],
                                   auth: DiskAuth(username: "chap-user", secretType: "iscsi", secretUUID: "6c3a1a0e-1f3b-8c2d-a4e5-0123456789ab"))
    static let nbd = NetworkDisk(protocol: .nbd, name: "export", hosts: ["127.0.0.1:10809"])
    static let vm = DomainModel(name: "net-disks", memory: .mib(64),
                                disks: [DiskModel(target: "vda", source: .block(path: "/dev/mapper/vg0-db")),
                                        DiskModel(target: "vdb", source: .network(rbd)),
                                        DiskModel(target: "sda", bus: .scsi, source: .network(iscsi)),
                                        DiskModel(target: "vdc", source: .network(nbd), readonly: true)],
                                power: .stopped)

    @Test("block and network disks are written with their hosts and auth, and read back as they were")
    func roundTrip() throws {
        let xml = LibvirtXML.domain(Self.vm, marker: Steps.marker, domainType: "kvm")
        Fixture.expectGolden("domain-network-disks", xml)
        let parsed = try LibvirtXML.parseDomain(xml)
        #expect(parsed.model.disks.map(\.source) == Self.vm.disks.map(\.source))
        #expect(parsed.model.disks[3].readonly)
    }

    @Test("auth beside <source> (libvirt's older place) reads the same as inside it")
    func authBesideSource() throws {
        let element = try XMLParser.parse("""
            <disk type='network' device='disk'><source protocol='rbd' name='vms/db-1'><host name='mon-1'/></source>
            <auth username='libvirt'><secret type='ceph' uuid='5c3a1a0e-1f3b-8c2d-a4e5-0123456789ab'/></auth>
            <target dev='vdb' bus='virtio'/></disk>
            """)
        let disk = try #require(LibvirtXML.parseDisk(element))
        #expect(disk.source == .network(NetworkDisk(protocol: .rbd, name: "vms/db-1", hosts: ["mon-1"], auth: Self.rbd.auth)))
    }

    @Test("host names with ports split and join the same way, IPv6 in brackets")
    func hosts() {
        #expect(NetworkDiskHosts.split("mon-1:6789") == ("mon-1", "6789"))
        #expect(NetworkDiskHosts.split("[fd00::10]:6789") == ("fd00::10", "6789"))
        #expect(NetworkDiskHosts.split("mon-1") == ("mon-1", nil))
        #expect(NetworkDiskHosts.join("fd00::10", "6789") == "[fd00::10]:6789")
        #expect(NetworkDiskHosts.join("mon-1", nil) == "mon-1")
    }

    @Test("on the test driver block and nbd disks converge: a second plan is empty; a new server is a next-boot change")
    func converges() async throws {
        let run = try DriverRun()
        var vm = Self.vm
        vm.disks = [vm.disks[0], vm.disks[3]]
        let desired = DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, domains: [vm])], specDigest: "n3td")
        try await run.apply(desired)
        let second = await run.plan(desired)
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        var changed = desired
        changed.hosts[0].domains[0].disks[1].source = .network(NetworkDisk(protocol: .nbd, name: "export", hosts: ["127.0.0.1:10810"]))
        let third = await run.plan(changed)
        #expect(third.steps.first?.changes.map(\.field) == ["disks[1]"], "\(third.steps)")
    }
}
