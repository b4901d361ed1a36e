import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// The platform fields a definition has. Sparse: a field is `nil` when the XML has nothing
    /// for it (the diff reads a missing device as absent), so domains without these elements
    /// parse to an empty `DomainPlatform`.
    static func parsePlatform(_ root: XElement) -> DomainPlatform {
        var platform = DomainPlatform()
        let os = root.child("os")
        let order = (os?.children(named: "boot") ?? []).compactMap { $0[attribute: "dev"].flatMap(BootDevice.init(libvirtName:)) }
        platform.bootOrder = order.isEmpty ? nil : order
        if let menu = os?.child("bootmenu")?[attribute: "enable"] { platform.bootMenu = menu == "yes" }
        if let kernel = os?.child("kernel")?.text.trimmed, !kernel.isEmpty {
            platform.kernel = .present(KernelBoot(path: kernel, initrd: os?.child("initrd")?.text.trimmed.nonEmpty,
                                                  cmdline: os?.child("cmdline")?.text.nonEmpty))
        }
        platform.secureBoot = secureBoot(os)
        platform.nvramTemplate = os?.child("nvram")?[attribute: "template"]
        let devices = root.child("devices") ?? XElement("devices")
        if devices.elements.contains(where: isGuestAgent) { platform.guestAgent = true }
        if devices.children(named: "input").contains(where: { $0[attribute: "type"] == "tablet" }) { platform.tablet = true }
        platform.tpm = devices.children(named: "tpm").lazy.compactMap(parseTPM).first.map { Presence.present($0) }
        platform.rng = devices.children(named: "rng").lazy.compactMap(parseRNG).first.map { Presence.present($0) }
        platform.watchdog = devices.children(named: "watchdog").lazy.compactMap(parseWatchdog).first.map { Presence.present($0) }
        platform.video = devices.children(named: "video").lazy.compactMap(parseVideo).first
        let hostDevices = devices.children(named: "hostdev").compactMap(parseHostDevice)
        platform.hostDevices = hostDevices.isEmpty ? nil : hostDevices
        return platform
    }

    /// Secure Boot as the definition states it: the loader's `secure` attribute, or the
    /// `secure-boot` feature asked of firmware autoselection.
    static func secureBoot(_ os: XElement?) -> Bool? {
        if os?[attribute: "firmware"] == "efi",
           let feature = os?.child("firmware")?.children(named: "feature").first(where: { $0[attribute: "name"] == "secure-boot" }) {
            return feature[attribute: "enabled"] == "yes"
        }
        if let secure = os?.child("loader")?[attribute: "secure"] { return secure == "yes" }
        return nil
    }

    static func isGuestAgent(_ element: XElement) -> Bool {
        element.name == "channel" && element.child("target")?[attribute: "name"] == guestAgentChannel
    }

    /// An emulated TPM; a passthrough one is not the model's.
    static func parseTPM(_ element: XElement) -> TPMDevice? {
        guard let backend = element.child("backend"), backend[attribute: "type"] == "emulator" else { return nil }
        let model = element[attribute: "model"].flatMap { name in TPMInterface.allCases.first { $0.libvirtName == name } } ?? .tis
        let version = backend[attribute: "version"].flatMap(TPMVersion.init(rawValue:)) ?? .v2_0
        return TPMDevice(model: model, version: version)
    }

    /// A virtio rng on a host device; an EGD (socket) backend is not the model's.
    static func parseRNG(_ element: XElement) -> RNGDevice? {
        guard let backend = element.child("backend"), backend[attribute: "model"] == "random" else { return nil }
        let text = backend.text.trimmed
        guard let source = text.isEmpty ? .urandom : RNGSource(rawValue: text) else { return nil }
        var rate: Int?
        if let element = element.child("rate"), let bytes = element[attribute: "bytes"].flatMap(Int.init) {
            let period = element[attribute: "period"].flatMap(Int.init) ?? 1000
            rate = period > 0 ? Int((Double(bytes) * 1000 / Double(period)).rounded()) : bytes
        }
        return RNGDevice(source: source, bytesPerSecond: rate)
    }

    static func parseWatchdog(_ element: XElement) -> WatchdogDevice? {
        guard let model = element[attribute: "model"].flatMap(WatchdogModel.init(rawValue:)) else { return nil }
        return WatchdogDevice(model: model, action: element[attribute: "action"].flatMap(WatchdogAction.init(rawValue:)) ?? .reset)
    }

    static func parseVideo(_ element: XElement) -> VideoDevice? {
        guard let model = element.child("model"), let type = model[attribute: "type"].flatMap(VideoType.init(rawValue:)) else { return nil }
        return VideoDevice(model: type, vram: model[attribute: "vram"].flatMap(UInt64.init).map { ByteSize(bytes: $0 * 1024) })
    }

    /// A PCI or USB host device by address or ids; other kinds (SCSI, mdev, by USB bus address)
    /// are not the model's.
    static func parseHostDevice(_ element: XElement) -> HostDevice? {
        guard element[attribute: "mode"] ?? "subsystem" == "subsystem", let source = element.child("source") else { return nil }
        switch element[attribute: "type"] {
        case "pci":
            guard let address = source.child("address") else { return nil }
            func field(_ name: String, _ width: Int) -> String? {
                guard let text = address[attribute: name] else { return name == "domain" ? String(repeating: "0", count: width) : nil }
                let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
                guard let value = UInt32(digits, radix: 16) else { return nil }
                let hex = String(value, radix: 16)
                return String(repeating: "0", count: max(0, width - hex.count)) + hex
            }
            guard let domain = field("domain", 4), let bus = field("bus", 2), let slot = field("slot", 2),
                  let function = field("function", 1) else { return nil }
            return .pci(address: "\(domain):\(bus):\(slot).\(function)")
        case "usb":
            guard let vendor = source.child("vendor")?[attribute: "id"], let product = source.child("product")?[attribute: "id"] else { return nil }
            return .usb(vendor: vendor.lowercased(), product: product.lowercased())
        default:
            return nil
        }
    }
}

extension String {
    /// The string, or `nil` when it is empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
