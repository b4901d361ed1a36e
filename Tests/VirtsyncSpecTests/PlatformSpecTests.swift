import Foundation
import Testing
import VirtsyncCore
@testable import VirtsyncSpec

/// Boot, firmware and platform devices of a VM: decoded, validated and normalized; written back
/// by the export.
@Suite("boot, firmware and devices in the spec")
struct PlatformSpecTests {
    static let full = """
    apiVersion: virtsync/v1
    kind: VirtualMachine
    name: installer
    memory: 1GiB
    machine: q35
    firmware: uefi
    secureBoot: true
    boot: {order: [cdrom, disk, network], menu: true}
    kernel:
      path: /var/lib/images/vmlinuz
      initrd: /var/lib/images/initrd.img
      cmdline: "console=ttyS0 inst.ks=http://10.0.0.1/ks.cfg"
    tpm: {model: crb, version: "2.0"}
    guestAgent: true
    rng: {source: /dev/random, bytesPerSecond: 2048}
    watchdog: {model: ib700, action: poweroff}
    video: {model: qxl, vram: 32MiB}
    tablet: true
    hostDevices:
      - pci: "03:00.0"
      - usb: {vendor: "0x1D6B", product: "0x0002"}
    disks:
      - file: /var/lib/images/installer-root.qcow2
      - file: /var/lib/images/debian-12-netinst.iso
        cdrom: true
        bus: sata
    interfaces:
      - bridge: br0
    """

    static let expected = DomainPlatform(
        bootOrder: [.cdrom, .disk, .network], bootMenu: true,
        kernel: .present(KernelBoot(path: "/var/lib/images/vmlinuz", initrd: "/var/lib/images/initrd.img",
                                    cmdline: "console=ttyS0 inst.ks=http://10.0.0.1/ks.cfg")),
        secureBoot: true, tpm: .present(TPMDevice(model: .crb, version: .v2_0)), guestAgent: true,
        rng: .present(RNGDevice(source: .random, bytesPerSecond: 2048)), watchdog: .present(WatchdogDevice(model: .ib700, action: .poweroff)),
        video: VideoDevice(model: .qxl, vram: .mib(32)), tablet: true,
        hostDevices: [.pci(address: "0000:03:00.0"), .usb(vendor: "0x1d6b", product: "0x0002")])

    /// Loads `documents` from a temporary directory; the one domain of host `local`.
    static func domain(_ documents: String) throws -> (DomainModel?, Diagnostics) {
        let directory = try TemporaryDirectory()
        try directory.write("vm.yaml", documents)
        let (result, diagnostics) = Fixtures.load(directory.url)
        return (result.desired?.hosts.first?.domains.first, diagnostics)
    }

    @Test("every platform key is decoded and normalized, addresses and ids in their canonical form")
    func full() throws {
        let (domain, diagnostics) = try Self.domain(Self.full)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        #expect(domain?.platform == Self.expected)
        #expect(domain?.disks.last?.cdrom == true)
    }

    @Test("a VM without platform keys manages none of them")
    func unmanaged() throws {
        let (domain, diagnostics) = try Self.domain("apiVersion: virtsync/v1\nkind: VirtualMachine\nname: plain\nmemory: 64MiB\n")
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        #expect(domain?.platform == DomainPlatform())
        #expect(domain?.platform.isEmpty == true)
    }

    @Test("false removes a device, true gives one with the defaults")
    func switches() throws {
        let (off, offDiagnostics) = try Self.domain("""
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: off
        memory: 64MiB
        kernel: false
        tpm: false
        rng: false
        watchdog: false
        guestAgent: false
        tablet: false
        hostDevices: []
        video: none
        """)
        #expect(offDiagnostics.items.isEmpty, "\(offDiagnostics)")
        #expect(off?.platform == DomainPlatform(kernel: .absent, tpm: .absent, guestAgent: false, rng: .absent, watchdog: .absent,
                                                video: VideoDevice(model: .none), tablet: false, hostDevices: []))
        let (on, onDiagnostics) = try Self.domain("""
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: on
        memory: 64MiB
        tpm: true
        rng: true
        watchdog: true
        """)
        #expect(onDiagnostics.items.isEmpty, "\(onDiagnostics)")
        #expect(on?.platform == DomainPlatform(tpm: .present(TPMDevice(model: .tis, version: .v2_0)), rng: .present(RNGDevice(source: .urandom)),
                                               watchdog: .present(WatchdogDevice(model: .i6300esb, action: .reset))))
    }

    @Test("an NVRAM template goes with an explicit loader and UEFI")
    func nvramTemplate() throws {
        let (domain, diagnostics) = try Self.domain("""
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: sb
        memory: 64MiB
        machine: q35
        firmware: uefi
        loader: /usr/share/OVMF/OVMF_CODE_4M.ms.fd
        nvramTemplate: /usr/share/OVMF/OVMF_VARS_4M.ms.fd
        secureBoot: true
        """)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        #expect(domain?.platform == DomainPlatform(secureBoot: true, nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"))
        #expect(domain?.loader == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
    }

    @Test("PCI addresses: with or without the domain, in any case; out of range and malformed ones refused",
          arguments: [("03:00.0", "0000:03:00.0"), ("0000:0A:1f.7", "0000:0a:1f.7"), ("1:2:3.4", "0001:02:03.4"),
                      ("0000:03:20.0", nil), ("0000:03:00.8", nil), ("03:00", nil), ("zz:00.0", nil), ("0000:100:00.0", nil),
                      ("", nil), ("0000:03:00.0.1", nil)])
    func pciAddresses(_ text: String, _ expected: String?) {
        #expect(DocumentDecoder.normalizedPCIAddress(text) == expected)
    }

    @Test("a VM with host devices in a cluster shuts down for maintenance instead of migrating")
    func hostDevicesStay() throws {
        let directory = try TemporaryDirectory()
        try directory.write("spec.yaml", """
        apiVersion: virtsync/v1
        kind: Host
        name: kvm-1
        uri: qemu+ssh://kvm-1/system
        ---
        apiVersion: virtsync/v1
        kind: Host
        name: kvm-2
        uri: qemu+ssh://kvm-2/system
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: gpu
        host: kvm-1
        memory: 1GiB
        hostDevices:
          - pci: "0000:03:00.0"
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: web
        host: kvm-1
        memory: 1GiB
        """)
        let (result, diagnostics) = Fixtures.load(directory.url)
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        let machines = try #require(result.desired?.machines)
        #expect(machines.first { $0.domain.name == "gpu" }?.placement.onMaintenance == .shutdown)
        #expect(machines.first { $0.domain.name == "web" }?.placement.onMaintenance == .migrate)
    }

    @Test("the export writes the platform fields, and the loader reads back the same platform")
    func export() throws {
        var model = DomainModel(name: "installer", memory: .gib(1), machine: "q35", firmware: .uefi)
        var platform = Self.expected
        platform.video?.vram = nil   // libvirt's choice: not written
        model.platform = platform
        let files = SpecWriter.files(ImportSet(domains: [ImportedDomain(model: model, running: false)]))
        let text = files.map(\.text).joined(separator: "\n")
        #expect(text.contains("tpm: {model: crb, version: \"2.0\"}"), "\(text)")
        let directory = try TemporaryDirectory()
        for file in files { try directory.write(file.path, file.text) }
        let (result, diagnostics) = Fixtures.load(directory.url)
        #expect(diagnostics.errors.isEmpty, "\(diagnostics)\n\(text)")
        #expect(result.desired?.hosts.first?.domains.first?.platform == platform, "\(text)")
    }

    @Test("the export leaves out libvirt's default boot order, video memory, and an NVRAM template the spec could not hold")
    func exportDefaults() {
        #expect(SpecWriter.platformLines(DomainPlatform(bootOrder: [.disk], nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd")).isEmpty)
        #expect(SpecWriter.platformLines(DomainPlatform(bootOrder: [.cdrom, .disk], video: VideoDevice(model: .vga, vram: .mib(16))))
            == ["boot:", "  order: [cdrom, disk]", "video: vga"])
        #expect(SpecWriter.platformLines(DomainPlatform(nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"), loader: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
            == ["nvramTemplate: /usr/share/OVMF/OVMF_VARS_4M.ms.fd"])
    }
}
