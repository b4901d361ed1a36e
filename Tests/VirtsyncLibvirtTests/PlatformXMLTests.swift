import Testing
import VirtsyncXML
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// Boot, firmware and platform devices in libvirt's XML: built, parsed back, merged over a
/// definition libvirt wrote, and applied to the test driver.
@Suite("boot, firmware and devices in the XML")
struct PlatformXMLTests {
    /// A definition as the QEMU driver writes it: per-device boot order, a TPM, the guest agent
    /// channel with the socket libvirt chose, a watchdog and a video device with addresses.
    static let existing = """
    <domain type='kvm'>
      <name>installer</name>
      <uuid>0b0d3a5e-4c2b-4f7e-9a55-6b1f0c2d3e4f</uuid>
      <memory unit='KiB'>262144</memory>
      <currentMemory unit='KiB'>262144</currentMemory>
      <vcpu placement='static'>1</vcpu>
      <os>
        <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
      </os>
      <features><acpi/><apic/></features>
      <devices>
        <disk type='file' device='disk'>
          <source file='/srv/root.img'/>
          <target dev='vda' bus='virtio'/>
          <boot order='1'/>
          <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
        </disk>
        <channel type='unix'>
          <source mode='bind' path='/run/libvirt/qemu/channel/1-installer/org.qemu.guest_agent.0'/>
          <target type='virtio' name='org.qemu.guest_agent.0'/>
          <address type='virtio-serial' controller='0' bus='0' port='1'/>
        </channel>
        <tpm model='tpm-tis'>
          <backend type='emulator' version='2.0'/>
        </tpm>
        <video>
          <model type='vga' vram='16384' heads='1' primary='yes'/>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
        </video>
        <watchdog model='i6300esb' action='reset'>
          <address type='pci' domain='0x0000' bus='0x10' slot='0x01' function='0x0'/>
        </watchdog>
        <hostdev mode='subsystem' type='pci' managed='yes'>
          <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>
          <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
        </hostdev>
      </devices>
    </domain>
    """

    static func merged(_ platform: DomainPlatform) throws -> XElement {
        var model = DomainModel(name: "installer", memory: .mib(256), machine: "q35", firmware: .uefi,
                                disks: [DiskModel(target: "vda", source: .file(path: "/srv/root.img"))], serialConsole: false)
        model.platform = platform
        return try XMLParser.parse(LibvirtXML.updatedDomain(current: Self.existing, model: model, marker: OwnershipMarker(specDigest: "d")))
    }

    @Test("each platform model parses back to the platform it was built from", arguments: [Models.platformDomain, Models.platformLoaderDomain])
    func parseBack(_ model: DomainModel) throws {
        let xml = LibvirtXML.domain(model, marker: OwnershipMarker(specDigest: "d"), domainType: "kvm")
        let parsed = try LibvirtXML.parseDomain(xml).model
        #expect(parsed.platform == model.platform)
        #expect(parsed.firmware == model.firmware)
        #expect(parsed.loader == model.loader)
    }

    @Test("Secure Boot turns on System Management Mode, which its firmware needs")
    func secureBootSMM() throws {
        let root = try XMLParser.parse(LibvirtXML.domain(Models.platformDomain, marker: OwnershipMarker(specDigest: "d"), domainType: "kvm"))
        #expect(root.path("features/smm")?[attribute: "state"] == "on")
        #expect(root.path("features/acpi") != nil)
        let merged = try Self.merged(DomainPlatform(secureBoot: true))
        #expect(merged.path("features/smm")?[attribute: "state"] == "on")
        #expect(merged.path("os/firmware")?.children(named: "feature").map { $0[attribute: "name"] ?? "" } == ["enrolled-keys", "secure-boot"])
    }

    @Test("an update replaces only the managed devices; devices already right keep libvirt's details, unmanaged ones stay")
    func mergeKeepsDetails() throws {
        let root = try Self.merged(DomainPlatform(bootOrder: [.cdrom, .disk], guestAgent: true, watchdog: .present(WatchdogDevice(action: .poweroff)),
                                                  tablet: true))
        let devices = try #require(root.child("devices"))
        // The boot order moved to <os>: libvirt refuses per-device order beside it.
        #expect(root.path("os")?.children(named: "boot").map { $0[attribute: "dev"] ?? "" } == ["cdrom", "hd"])
        #expect(devices.child("disk")?.child("boot") == nil)
        #expect(devices.child("disk")?.child("address") != nil)
        // The channel was already right: kept with libvirt's socket and address.
        #expect(devices.child("channel")?.child("source")?[attribute: "path"]?.hasSuffix("org.qemu.guest_agent.0") == true)
        #expect(devices.children(named: "channel").count == 1)
        // The watchdog changed: rebuilt.
        #expect(devices.children(named: "watchdog").map { $0[attribute: "action"] } == ["poweroff"])
        #expect(devices.children(named: "input").map { $0[attribute: "type"] } == ["tablet"])
        // Not managed: the TPM, the video device and the host device stay as they were.
        #expect(devices.child("tpm")?[attribute: "model"] == "tpm-tis")
        #expect(devices.child("video")?.child("address") != nil)
        #expect(devices.child("hostdev")?.child("address") != nil)
    }

    @Test("an update removes the devices set to absent and keeps a host device that is still wanted")
    func mergeRemoves() throws {
        let root = try Self.merged(DomainPlatform(kernel: .absent, tpm: .absent, guestAgent: false, watchdog: .absent,
                                                  video: VideoDevice(model: .virtio), hostDevices: [.pci(address: "0000:03:00.0")]))
        let devices = try #require(root.child("devices"))
        #expect(devices.child("tpm") == nil)
        #expect(devices.child("channel") == nil)
        #expect(devices.child("watchdog") == nil)
        #expect(devices.children(named: "video").count == 1)
        #expect(devices.child("video")?.child("model")?[attribute: "type"] == "virtio")
        #expect(devices.child("hostdev")?.child("address")?[attribute: "bus"] == "0x07")
        #expect(try LibvirtXML.parseDomain(root.serialized()).model.platform
            == DomainPlatform(video: VideoDevice(model: .virtio), hostDevices: [.pci(address: "0000:03:00.0")]))
    }

    @Test("an update changes the boot menu's switch and keeps a timeout set outside the spec")
    func bootMenuTimeout() throws {
        let current = Self.existing.replacingOccurrences(of: "</os>", with: "<bootmenu enable='yes' timeout='3000'/></os>")
        var model = DomainModel(name: "installer", memory: .mib(256), machine: "q35", serialConsole: false)
        model.platform.bootMenu = false
        let root = try XMLParser.parse(LibvirtXML.updatedDomain(current: current, model: model, marker: OwnershipMarker(specDigest: "d")))
        #expect(root.path("os/bootmenu")?[attribute: "enable"] == "no")
        #expect(root.path("os/bootmenu")?[attribute: "timeout"] == "3000")
    }

    @Test("import leaves the platform devices to their fields; what a field does not say is listed as kept on the host")
    func importCoverage() throws {
        let xml = Self.existing.replacingOccurrences(of: "<backend type='emulator' version='2.0'/>",
                                                     with: "<backend type='emulator' version='2.0'><encryption secret='6dd3e4a5-1d76-44ce-961f-f119f5aad935'/></backend>")
            .replacingOccurrences(of: "</devices>", with: "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel><hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address bus='0' target='0' unit='0'/></source></hostdev></devices>")
        let uncovered = try LibvirtXML.uncovered(domainXML: xml)
        #expect(uncovered.deviceElements.count == 2, "\(uncovered.deviceElements)")
        #expect(uncovered.deviceElements.allSatisfy { $0.contains("spicevmc") || $0.contains("type='scsi'") })
        #expect(uncovered.partlyCovered == ["<tpm> details <encryption>"])
    }

    @Test("the merged definition of an update is the golden one")
    func mergeGolden() throws {
        let root = try Self.merged(Models.platformDomain.platform)
        Fixture.expectGolden("domain-platform-merge", root.serialized())
    }

    @Test("the test driver takes every platform field; after an update the definition reads back as the spec asked")
    func testDriverUpdate() async throws {
        let session = try await Fixture.session()
        var model = Models.platformDomain
        try await session.apply(Steps.domain(.create, model))
        model.platform.watchdog = .present(WatchdogDevice(model: .i6300esb, action: .reset))
        model.platform.tpm = .absent
        model.platform.bootOrder = [.disk]
        model.platform.hostDevices = [.usb(vendor: "0x1d6b", product: "0x0002")]
        try await session.apply(Steps.domain(.update, model))
        let seen = try #require(try await session.observe(host: Steps.host).domains[model.name])
        // Absent: no element, which reads back as nothing.
        model.platform.tpm = nil
        #expect(seen.model.platform == model.platform)
        #expect(seen.model == model.filled(from: seen.model))
    }
}
