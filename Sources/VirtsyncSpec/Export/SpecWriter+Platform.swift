import VirtsyncCore

extension SpecWriter {
    /// The platform keys of a VM document (boot, kernel, Secure Boot, devices), each only when
    /// the domain has it: what the domain lacks stays unmanaged in the exported spec. The boot
    /// order `disk` alone, libvirt's default, is not written (unmanaged, it stays as it is), nor
    /// video memory (libvirt's choice), nor an NVRAM template without a `loader` (the spec
    /// refuses it: libvirt picks the template of the firmware it selects).
    static func platformLines(_ platform: DomainPlatform, loader: String? = nil) -> [String] {
        var lines: [String] = []
        let order = platform.bootOrder == [.disk] ? nil : platform.bootOrder
        if order != nil || platform.bootMenu != nil {
            lines.append("boot:")
            if let order { lines.append("  order: [\(order.map(\.rawValue).joined(separator: ", "))]") }
            if let menu = platform.bootMenu { lines.append("  menu: \(menu)") }
        }
        if let kernel = platform.kernel?.value {
            lines.append("kernel:")
            lines.append("  path: \(scalar(kernel.path))")
            if let initrd = kernel.initrd { lines.append("  initrd: \(scalar(initrd))") }
            if let cmdline = kernel.cmdline { lines.append("  cmdline: \(quoted(cmdline))") }
        }
        if let secure = platform.secureBoot { lines.append("secureBoot: \(secure)") }
        if let template = platform.nvramTemplate, loader != nil { lines.append("nvramTemplate: \(scalar(template))") }
        if let tpm = platform.tpm?.value { lines.append("tpm: {model: \(tpm.model.rawValue), version: \(quoted(tpm.version.rawValue))}") }
        if platform.guestAgent == true { lines.append("guestAgent: true") }
        if let rng = platform.rng?.value {
            lines.append("rng: {source: \(rng.source.rawValue)\(rng.bytesPerSecond.map { ", bytesPerSecond: \($0)" } ?? "")}")
        }
        if let watchdog = platform.watchdog?.value { lines.append("watchdog: {model: \(watchdog.model.rawValue), action: \(watchdog.action.rawValue)}") }
        if let video = platform.video { lines.append("video: \(video.model.rawValue)") }
        if platform.tablet == true { lines.append("tablet: true") }
        if let devices = platform.hostDevices, !devices.isEmpty {
            lines.append("hostDevices:")
            for device in devices {
                switch device {
                case .pci(let address): lines.append("  - pci: \(quoted(address))")
                case .usb(let vendor, let product): lines.append("  - usb: {vendor: \(quoted(vendor)), product: \(quoted(product))}")
                }
            }
        }
        return lines
    }
}
