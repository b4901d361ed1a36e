/// Boot, firmware and the devices a VM's platform has besides its disks and interfaces: boot
/// order, direct kernel boot, Secure Boot, an NVRAM template, TPM, the guest agent channel, rng,
/// watchdog, video, a USB tablet and host devices.
///
/// Every field is `nil` when the spec leaves it out: virtsync then neither compares nor changes
/// what the domain has (libvirt fills in a boot order and a video device by itself, and an
/// adopted VM keeps what it came with). A device field set to `.absent` removes the device.
public struct DomainPlatform: Hashable, Codable, Sendable {
    /// The firmware's boot order (`<os><boot dev=…/>`).
    public var bootOrder: [BootDevice]?
    /// The firmware's interactive boot menu.
    public var bootMenu: Bool?
    /// Direct kernel boot: kernel, initrd and command line from host files.
    public var kernel: Presence<KernelBoot>?
    /// UEFI Secure Boot (with Microsoft's keys enrolled when the firmware is autoselected).
    public var secureBoot: Bool?
    /// The UEFI variable store a new VM's NVRAM is copied from.
    public var nvramTemplate: String?
    /// An emulated TPM (swtpm).
    public var tpm: Presence<TPMDevice>?
    /// The QEMU guest agent's virtio-serial channel (`org.qemu.guest_agent.0`).
    public var guestAgent: Bool?
    /// A virtio random number generator fed from a host device.
    public var rng: Presence<RNGDevice>?
    /// A watchdog device and what happens when it fires.
    public var watchdog: Presence<WatchdogDevice>?
    /// The primary video device.
    public var video: VideoDevice?
    /// A USB tablet (absolute pointer: the mouse follows the VNC/SPICE client).
    public var tablet: Bool?
    /// PCI and USB devices of the host passed through to the guest; they tie the VM to its host.
    public var hostDevices: [HostDevice]?

    public init(bootOrder: [BootDevice]? = nil, bootMenu: Bool? = nil, kernel: Presence<KernelBoot>? = nil, secureBoot: Bool? = nil,
                nvramTemplate: String? = nil, tpm: Presence<TPMDevice>? = nil, guestAgent: Bool? = nil, rng: Presence<RNGDevice>? = nil,
                watchdog: Presence<WatchdogDevice>? = nil, video: VideoDevice? = nil, tablet: Bool? = nil, hostDevices: [HostDevice]? = nil) {
        self.bootOrder = bootOrder
        self.bootMenu = bootMenu
        self.kernel = kernel
        self.secureBoot = secureBoot
        self.nvramTemplate = nvramTemplate
        self.tpm = tpm
        self.guestAgent = guestAgent
        self.rng = rng
        self.watchdog = watchdog
        self.video = video
        self.tablet = tablet
        self.hostDevices = hostDevices
    }

    /// `true` when the spec manages none of these fields.
    public var isEmpty: Bool { self == DomainPlatform() }

    /// The host devices the VM has (none when unmanaged).
    public var passedThrough: [HostDevice] { hostDevices ?? [] }
}

/// A managed device: present with its settings, or absent (removed when the domain has one).
public enum Presence<Value: Hashable & Codable & Sendable>: Hashable, Codable, Sendable {
    case absent
    case present(Value)

    /// The settings when present.
    public var value: Value? {
        if case .present(let value) = self { return value }
        return nil
    }
}

/// A device class of the firmware's boot order.
public enum BootDevice: String, Hashable, Codable, Sendable, CaseIterable {
    case disk, cdrom, network

    /// libvirt's name (`<boot dev=…>`).
    public var libvirtName: String {
        switch self {
        case .disk: return "hd"
        case .cdrom: return "cdrom"
        case .network: return "network"
        }
    }

    /// The boot device of a libvirt name; `nil` for those the spec cannot express (`fd`).
    public init?(libvirtName: String) {
        guard let device = Self.allCases.first(where: { $0.libvirtName == libvirtName }) else { return nil }
        self = device
    }
}

/// Direct kernel boot: QEMU loads the kernel (and initrd) from host files.
public struct KernelBoot: Hashable, Codable, Sendable {
    /// Host path of the kernel image.
    public var path: String
    /// Host path of the initial ramdisk.
    public var initrd: String?
    /// The kernel command line.
    public var cmdline: String?

    public init(path: String, initrd: String? = nil, cmdline: String? = nil) {
        self.path = path
        self.initrd = initrd
        self.cmdline = cmdline
    }
}

/// TPM interface models (x86).
public enum TPMInterface: String, Hashable, Codable, Sendable, CaseIterable {
    case tis, crb

    /// libvirt's model name.
    public var libvirtName: String { "tpm-\(rawValue)" }
}

/// TPM specification versions swtpm emulates.
public enum TPMVersion: String, Hashable, Codable, Sendable, CaseIterable {
    case v1_2 = "1.2"
    case v2_0 = "2.0"
}

/// An emulated TPM (libvirt's `emulator` backend, run by swtpm).
public struct TPMDevice: Hashable, Codable, Sendable {
    public var model: TPMInterface
    public var version: TPMVersion

    public init(model: TPMInterface = .tis, version: TPMVersion = .v2_0) {
        self.model = model
        self.version = version
    }
}

/// Host entropy sources a virtio-rng device may read.
public enum RNGSource: String, Hashable, Codable, Sendable, CaseIterable {
    case urandom = "/dev/urandom"
    case random = "/dev/random"
    case hwrng = "/dev/hwrng"
}

/// A virtio random number generator.
public struct RNGDevice: Hashable, Codable, Sendable {
    public var source: RNGSource
    /// Rate limit in bytes per second; `nil` for none.
    public var bytesPerSecond: Int?

    public init(source: RNGSource = .urandom, bytesPerSecond: Int? = nil) {
        self.source = source
        self.bytesPerSecond = bytesPerSecond
    }
}

/// Watchdog device models.
public enum WatchdogModel: String, Hashable, Codable, Sendable, CaseIterable {
    /// A PCI device, on every x86 machine.
    case i6300esb
    /// An ISA card (any x86 machine). The q35 chipset's own `itco` needs libvirt 9.1, newer
    /// than the libvirt 9.0 this is tested with, so it is not offered yet.
    case ib700
}

/// What QEMU does when the watchdog fires.
public enum WatchdogAction: String, Hashable, Codable, Sendable, CaseIterable {
    case reset, shutdown, poweroff, pause, none, dump
    case injectNMI = "inject-nmi"
}

/// A watchdog.
public struct WatchdogDevice: Hashable, Codable, Sendable {
    public var model: WatchdogModel
    public var action: WatchdogAction

    public init(model: WatchdogModel = .i6300esb, action: WatchdogAction = .reset) {
        self.model = model
        self.action = action
    }
}

/// Video device models.
public enum VideoType: String, Hashable, Codable, Sendable, CaseIterable {
    case virtio, qxl, vga, bochs, cirrus, ramfb, none
}

/// The primary video device.
public struct VideoDevice: Hashable, Codable, Sendable {
    public var model: VideoType
    /// Video memory; `nil` leaves libvirt's default (and does not compare it).
    public var vram: ByteSize?

    public init(model: VideoType, vram: ByteSize? = nil) {
        self.model = model
        self.vram = vram
    }
}

/// A device of the host given to the guest (VFIO for PCI, USB redirection by id).
public enum HostDevice: Hashable, Codable, Sendable, CustomStringConvertible {
    /// A PCI function, as `dddd:bb:ss.f` (lower-case hexadecimal, domain included).
    case pci(address: String)
    /// A USB device by vendor and product id (`0x` and four lower-case hexadecimal digits).
    case usb(vendor: String, product: String)

    public var description: String {
        switch self {
        case .pci(let address): return "pci \(address)"
        case .usb(let vendor, let product): return "usb \(vendor):\(product)"
        }
    }
}
