import VirtsyncCore
import Yams

// Boot, firmware and platform devices of a VM: `boot`, `kernel`, `secureBoot`, `nvramTemplate`,
// `tpm`, `guestAgent`, `rng`, `watchdog`, `video`, `tablet`, `hostDevices`. A key left out is
// not managed (nil); a device set to `false` is removed.
extension DocumentDecoder {
    static let platformKeys = ["boot", "kernel", "secureBoot", "nvramTemplate", "tpm", "guestAgent", "rng", "watchdog", "video",
                               "tablet", "hostDevices"]
    static let bootKeys = KeySet(["order", "menu"])
    static let kernelKeys = KeySet(["path", "initrd", "cmdline"])
    static let tpmKeys = KeySet(["model", "version"])
    static let rngKeys = KeySet(["source", "bytesPerSecond"])
    static let watchdogKeys = KeySet(["model", "action"])
    static let videoKeys = KeySet(["model", "vram"])
    static let hostDeviceKeys = KeySet(["pci", "usb"])
    static let usbKeys = KeySet(["vendor", "product"])
    /// Longest kernel command line accepted (x86 Linux takes at most 2048 bytes by default).
    static let maxCmdlineLength = 4096
    /// `rng.bytesPerSecond`: one byte to 1 GB per second.
    static let rngRateRange = 1...1_000_000_000

    /// Reads the platform keys of a VM; `firmware`, `loader` and `machine` are read already.
    func decodePlatform(_ map: MapReader, into vm: inout MachineSpec) {
        var platform = DomainPlatform()
        if let boot = map.map("boot", keys: Self.bootKeys) {
            platform.bootOrder = readBootOrder(boot)
            if platform.bootOrder != nil { vm.bootOrderAt = boot.valueLocation("order") }
            platform.bootMenu = boot.bool("menu")
        }
        platform.kernel = readDevice(map, "kernel", keys: Self.kernelKeys, defaults: nil) { readKernel($0) }
        platform.secureBoot = map.bool("secureBoot")
        platform.nvramTemplate = readAbsolutePath(map, "nvramTemplate")?.value
        platform.tpm = readDevice(map, "tpm", keys: Self.tpmKeys, defaults: TPMDevice()) { readTPM($0, machine: vm.machine?.value) }
        platform.guestAgent = map.bool("guestAgent")
        platform.rng = readDevice(map, "rng", keys: Self.rngKeys, defaults: RNGDevice()) { readRNG($0) }
        platform.watchdog = readDevice(map, "watchdog", keys: Self.watchdogKeys, defaults: WatchdogDevice()) { readWatchdog($0, machine: vm.machine?.value) }
        platform.video = readVideo(map)
        platform.tablet = map.bool("tablet")
        platform.hostDevices = readHostDevices(map)
        if platform.hostDevices?.isEmpty == false { vm.hostDevicesAt = map.keyLocation("hostDevices") }
        checkFirmware(map, platform: platform, vm: vm)
        if let tpm = platform.tpm?.value, let machine = vm.machine?.value, Self.chipset(machine) == nil {
            reporter.error(map.keyLocation("tpm"), map.keyPath("tpm"),
                           "TPM models tis and crb are x86 devices; machine \(machine.quotedForMessage) cannot have a \(tpm.model.rawValue) TPM")
        }
        if vm.ha == true, platform.hostDevices?.isEmpty == false {
            reporter.error(map.keyLocation("hostDevices"), map.keyPath("hostDevices"),
                           "an HA VM restarts on another host, where these host devices do not exist; remove 'ha' or the host devices")
        }
        vm.platform = platform
    }

    /// Secure Boot and the NVRAM template against `firmware`, `loader` and `machine`.
    private func checkFirmware(_ map: MapReader, platform: DomainPlatform, vm: MachineSpec) {
        let uefi = vm.firmware == .uefi
        if let secure = platform.secureBoot {
            if !uefi {
                reporter.error(map.keyLocation("secureBoot"), map.keyPath("secureBoot"), "secureBoot needs firmware: uefi")
            } else if secure, Self.chipset(vm.machine?.value) != "q35" {
                reporter.error(map.keyLocation("secureBoot"), map.keyPath("secureBoot"),
                               "Secure Boot needs System Management Mode, which only the q35 machine has: set machine: q35")
            }
        }
        if platform.nvramTemplate != nil {
            if !uefi {
                reporter.error(map.keyLocation("nvramTemplate"), map.keyPath("nvramTemplate"), "nvramTemplate needs firmware: uefi")
            } else if vm.loader == nil {
                reporter.error(map.keyLocation("nvramTemplate"), map.keyPath("nvramTemplate"),
                               "an NVRAM template goes with an explicit 'loader' (the matching _CODE file); without one libvirt "
                                   + "selects the firmware and its template itself")
            }
        }
    }

    /// `q35` or `i440fx` for an x86 machine type (alias or versioned), else `nil`; `nil` machine
    /// is libvirt's default for x86, `pc` (i440fx).
    static func chipset(_ machine: String?) -> String? {
        guard let machine else { return "i440fx" }
        if machine == "q35" || machine.hasPrefix("pc-q35-") { return "q35" }
        if machine == "pc" || machine.hasPrefix("pc-i440fx-") { return "i440fx" }
        return nil
    }

    /// A device key: `false` (absent), `true` (present with `defaults`, when there are), or a
    /// mapping read by `read`.
    private func readDevice<Value: Hashable & Codable & Sendable>(_ map: MapReader, _ key: String, keys: KeySet, defaults: Value?,
                                   read: (MapReader) -> Value?) -> Presence<Value>? {
        guard let node = map.node(key) else { return nil }
        if case .bool(let on) = NodeValue(node) {
            if !on { return .absent }
            if let defaults { return .present(defaults) }
            reporter.error(node.location(in: file), map.keyPath(key), "'\(key)' takes a mapping, or false to remove it")
            return nil
        }
        guard let inner = map.map(key, keys: keys), let value = read(inner) else { return nil }
        return .present(value)
    }

    private func readBootOrder(_ boot: MapReader) -> [BootDevice]? {
        guard let nodes = boot.list("order") else { return nil }
        var order: [BootDevice] = []
        var ok = true
        for (index, node) in nodes.enumerated() {
            let path = "\(boot.keyPath("order"))[\(index)]"
            let names = BootDevice.allCases.map(\.rawValue)
            guard case .scalar(let scalar) = node, let device = BootDevice(rawValue: scalar.string) else {
                reporter.error(node.location(in: file), path, "expected one of \(names.joined(separator: ", ")), got \(NodeValue.describe(node))")
                ok = false
                continue
            }
            if order.contains(device) {
                reporter.error(node.location(in: file), path, "\(device.rawValue) is already in the boot order")
                ok = false
                continue
            }
            order.append(device)
        }
        if nodes.isEmpty {
            reporter.error(boot.valueLocation("order"), boot.keyPath("order"), "an empty boot order boots nothing; name disk, cdrom or network")
            return nil
        }
        return ok ? order : nil
    }

    private func readKernel(_ map: MapReader) -> KernelBoot? {
        let path = readAbsolutePath(map, "path", required: true)
        let initrd = readAbsolutePath(map, "initrd")
        var cmdline = map.string("cmdline")
        if let text = cmdline {
            if text.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                reporter.error(text.location, map.keyPath("cmdline"), "the kernel command line holds a control character (a line break?)")
                cmdline = nil
            } else if text.value.utf8.count > Self.maxCmdlineLength {
                reporter.error(text.location, map.keyPath("cmdline"), "the kernel command line is longer than \(Self.maxCmdlineLength) bytes")
                cmdline = nil
            }
        }
        guard let path else { return nil }
        return KernelBoot(path: path.value, initrd: initrd?.value, cmdline: cmdline?.value)
    }

    private func readTPM(_ map: MapReader, machine: String?) -> TPMDevice? {
        var tpm = TPMDevice()
        if let model = map.choice("model", TPMInterface.allCases) { tpm.model = model.value }
        if let version = map.choice("version", TPMVersion.allCases) { tpm.version = version.value }
        if tpm.model == .crb, tpm.version == .v1_2 {
            reporter.error(map.keyLocation("version"), map.keyPath("version"), "the crb interface exists only for TPM 2.0; use model tis for 1.2")
            return nil
        }
        return tpm
    }

    private func readRNG(_ map: MapReader) -> RNGDevice? {
        var rng = RNGDevice()
        if let source = map.choice("source", RNGSource.allCases) { rng.source = source.value }
        rng.bytesPerSecond = map.int("bytesPerSecond", range: Self.rngRateRange)?.value
        return rng
    }

    private func readWatchdog(_ map: MapReader, machine: String?) -> WatchdogDevice? {
        var watchdog = WatchdogDevice()
        if let model = map.choice("model", WatchdogModel.allCases) { watchdog.model = model.value }
        if let action = map.choice("action", WatchdogAction.allCases) { watchdog.action = action.value }
        if let machine, Self.chipset(machine) == nil {
            reporter.error(map.keyLocation("model"), map.keyPath("model"),
                           "watchdog models i6300esb and ib700 are x86 devices; machine \(machine.quotedForMessage) cannot have one")
            return nil
        }
        return watchdog
    }

    private func readVideo(_ map: MapReader) -> VideoDevice? {
        guard let node = map.node("video") else { return nil }
        guard case .mapping = node else { return map.choice("video", VideoType.allCases).map { VideoDevice(model: $0.value) } }
        guard let video = map.map("video", keys: Self.videoKeys), let model = video.choice("model", VideoType.allCases, required: true) else {
            return nil
        }
        var device = VideoDevice(model: model.value)
        if let vram = video.size("vram") {
            if model.value == .none {
                reporter.error(vram.location, video.keyPath("vram"), "video model none has no memory")
            } else if vram.value.bytes % 1024 != 0 || vram.value < .mib(1) {
                reporter.error(vram.location, video.keyPath("vram"), "vram must be a whole number of KiB, at least 1MiB")
            } else {
                device.vram = vram.value
            }
        }
        return device
    }

    private func readHostDevices(_ map: MapReader) -> [HostDevice]? {
        guard let nodes = map.list("hostDevices") else { return nil }
        var devices: [HostDevice] = []
        var seen: [HostDevice: SourceLocation] = [:]
        for (index, node) in nodes.enumerated() {
            let path = "\(map.keyPath("hostDevices"))[\(index)]"
            guard let entry = MapReader(node, file: file, path: path, keys: Self.hostDeviceKeys, reporter: reporter) else { continue }
            var device: HostDevice?
            switch (entry.has("pci"), entry.has("usb")) {
            case (true, true):
                reporter.error(entry.keyLocation("usb"), path, "a host device is either 'pci' or 'usb', not both")
            case (false, false):
                reporter.error(entry.location, path, "a host device needs 'pci' (an address such as 0000:03:00.0) or 'usb' (vendor and product)")
            case (true, false):
                if let text = entry.string("pci") {
                    if let address = Self.normalizedPCIAddress(text.value) {
                        device = .pci(address: address)
                    } else {
                        reporter.error(text.location, entry.keyPath("pci"),
                                       "\(text.value.quotedForMessage) is not a PCI address such as 0000:03:00.0 (domain:bus:slot.function, hexadecimal)")
                    }
                }
            case (false, true):
                if let usb = entry.map("usb", keys: Self.usbKeys) {
                    let vendor = readUSBID(usb, "vendor"), product = readUSBID(usb, "product")
                    if let vendor, let product { device = .usb(vendor: vendor, product: product) }
                }
            }
            guard let device else { continue }
            if let first = seen[device] {
                reporter.error(entry.location, path, "\(device) is given twice to this VM (first at \(first))")
                continue
            }
            seen[device] = entry.location
            devices.append(device)
        }
        return devices
    }

    private func readUSBID(_ map: MapReader, _ key: String) -> String? {
        guard let text = map.string(key, required: true) else { return nil }
        let value = text.value.lowercased()
        let digits = value.hasPrefix("0x") ? value.dropFirst(2) : Substring(value)
        guard digits.count == 4, digits.allSatisfy(\.isHexDigit) else {
            reporter.error(text.location, map.keyPath(key), "\(text.value.quotedForMessage) is not a USB \(key) id such as 0x1d6b (four hexadecimal digits)")
            return nil
        }
        return "0x" + digits
    }

    /// `[dddd:]bb:ss.f` in hexadecimal (slot at most 1f, function at most 7) as `dddd:bb:ss.f`.
    static func normalizedPCIAddress(_ text: String) -> String? {
        let lower = text.lowercased()
        var parts = lower.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { parts.insert("0000", at: 0) }
        guard parts.count == 3 else { return nil }
        let slotFunction = parts[2].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard slotFunction.count == 2 else { return nil }
        func hex(_ s: String, maxDigits: Int, max: UInt32) -> UInt32? {
            guard !s.isEmpty, s.count <= maxDigits, s.allSatisfy(\.isHexDigit), let value = UInt32(s, radix: 16), value <= max else { return nil }
            return value
        }
        guard let domain = hex(parts[0], maxDigits: 4, max: 0xffff), let bus = hex(parts[1], maxDigits: 2, max: 0xff),
              let slot = hex(slotFunction[0], maxDigits: 2, max: 0x1f), let function = hex(slotFunction[1], maxDigits: 1, max: 7) else { return nil }
        func padded(_ value: UInt32, _ width: Int) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(domain, 4)):\(padded(bus, 2)):\(padded(slot, 2)).\(function)"
    }
}
