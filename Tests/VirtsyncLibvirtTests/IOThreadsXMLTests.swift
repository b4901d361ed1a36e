import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML
@testable import VirtsyncLibvirt

/// I/O threads and virtio-scsi disks in libvirt XML: written, read back, merged into an existing
/// definition, converged on the test driver.
@Suite("I/O threads and virtio-scsi in libvirt XML")
struct IOThreadsXMLTests {
    static let vm: DomainModel = {
        var vm = DomainModel(name: "threaded", memory: .mib(64),
                             disks: [DiskModel(target: "vda", source: .file(path: "/srv/os.qcow2"), options: DiskOptions(iothread: 1)),
                                     DiskModel(target: "sda", bus: .virtioScsi, source: .file(path: "/srv/data.raw"),
                                               options: DiskOptions(discard: .unmap, iothread: 2)),
                                     DiskModel(target: "sdb", bus: .virtioScsi, source: .file(path: "/srv/logs.raw"))],
                             power: .stopped)
        vm.cpu.iothreads = 2
        return vm
    }()

    @Test("iothreads, a virtio disk's thread and the virtio-scsi controller with its thread are written and read back")
    func roundTrip() throws {
        let xml = LibvirtXML.domain(Self.vm, marker: Steps.marker, domainType: "kvm")
        Fixture.expectGolden("domain-iothreads", xml)
        #expect(xml.contains("<iothreads>2</iothreads>"))
        #expect(xml.contains("<controller type='scsi' index='0' model='virtio-scsi'><driver iothread='2'/></controller>")
                    || xml.contains("<controller type='scsi' index='0' model='virtio-scsi'>\n"), "\(xml)")
        let parsed = try LibvirtXML.parseDomain(xml).model
        #expect(parsed.cpu.iothreads == 2)
        #expect(parsed.disks.map(\.bus) == [.virtio, .virtioScsi, .virtioScsi])
        // The controller's thread is every virtio-scsi disk's; the spec leaves sdb's open.
        #expect(parsed.disks.map { $0.options?.iothread } == [1, 2, 2])
        #expect(parsed.disks[2].options?.masked(by: Self.vm.disks[2].options) == nil)
    }

    @Test("scsi disks on another controller model stay 'scsi'; a disk addressed to controller 1 reads that controller")
    func plainSCSI() throws {
        let xml = """
            <domain type='kvm'><name>x</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
            <disk type='file' device='disk'><source file='/a'/><target dev='sda' bus='scsi'/></disk>
            <disk type='file' device='disk'><source file='/b'/><target dev='sdb' bus='scsi'/><address type='drive' controller='1' bus='0' target='0' unit='0'/></disk>
            <controller type='scsi' index='0' model='lsilogic'/>
            <controller type='scsi' index='1' model='virtio-scsi'><driver iothread='3'/></controller>
            </devices></domain>
            """
        let disks = try LibvirtXML.parseDomain(xml).model.disks
        #expect(disks.map(\.bus) == [.scsi, .virtioScsi])
        #expect(disks[1].options?.iothread == 3)
    }

    @Test("an update turns libvirt's SCSI controller into virtio-scsi (its address kept) and back; iothreadids stay while they fit the count")
    func merge() throws {
        let current = """
            <domain type='kvm'><name>threaded</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><iothreads>1</iothreads>
            <iothreadids><iothread id='1'/></iothreadids><os><type>hvm</type></os><devices>
            <disk type='file' device='disk'><source file='/srv/data.raw'/><target dev='sda' bus='scsi'/><address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>
            <controller type='scsi' index='0' model='lsilogic'><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></controller>
            <controller type='usb' index='0' model='qemu-xhci'/>
            </devices></domain>
            """
        var vm = Self.vm
        vm.disks = [Self.vm.disks[1]]
        let merged = try LibvirtXML.updatedDomain(current: current, model: vm, marker: Steps.marker)
        let root = try XMLParser.parse(merged)
        let controllers = root.child("devices")?.children(named: "controller") ?? []
        let scsi = try #require(controllers.first { $0[attribute: "type"] == "scsi" })
        #expect(scsi[attribute: "model"] == "virtio-scsi" && scsi.child("driver")?[attribute: "iothread"] == "2")
        #expect(scsi.child("address")?[attribute: "slot"] == "0x05", "the controller keeps its PCI slot")
        #expect(controllers.contains { $0[attribute: "type"] == "usb" })
        #expect(root.child("iothreads")?.text == "2" && root.child("iothreadids") != nil, "one id fits two threads: kept")
        #expect(root.child("devices")?.children(named: "disk").first?.child("address")?[attribute: "unit"] == "0", "same libvirt bus: the address stays")
        let parsed = try LibvirtXML.parseDomain(merged).model
        #expect(parsed.disks.map(\.bus) == [.virtioScsi])

        // Back to plain scsi: the virtio-scsi controller goes and libvirt adds its own; with
        // fewer threads than ids, the ids go too.
        var plain = vm
        plain.disks[0].bus = .scsi
        plain.disks[0].options?.iothread = nil
        plain.cpu.iothreads = 0
        let back = try XMLParser.parse(try LibvirtXML.updatedDomain(current: merged, model: plain, marker: Steps.marker))
        #expect(!(back.child("devices")?.children(named: "controller").contains { $0[attribute: "model"] == "virtio-scsi" } ?? true))
        #expect(back.child("iothreads") == nil && back.child("iothreadids") == nil)
    }

    @Test("on the test driver iothreads and virtio-scsi converge: a second plan is empty; a changed thread is a next-boot change")
    func converges() async throws {
        let run = try DriverRun()
        let desired = DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, domains: [Self.vm])], specDigest: "10th")
        try await run.apply(desired)
        let second = await run.plan(desired)
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        var changed = desired
        changed.hosts[0].domains[0].cpu.iothreads = 4
        changed.hosts[0].domains[0].disks[1].options?.iothread = 3
        let third = await run.plan(changed)
        #expect(Set(third.steps.first?.changes.map(\.field) ?? []) == ["iothreads", "disks[1]"], "\(third.steps)")
        try await run.apply(changed)
        let fourth = await run.plan(changed)
        #expect(fourth.isEmpty, "\(fourth.steps.map { "\($0.id) \($0.changes)" })")
    }
}
