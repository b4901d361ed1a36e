import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// The guest agent's channel name (QEMU's convention, which the agent opens in the guest).
    static let guestAgentChannel = "org.qemu.guest_agent.0"

    /// Writes the managed platform fields into `<os>`: boot order and menu, direct kernel boot,
    /// Secure Boot and the NVRAM template. A field the model leaves `nil` keeps what is there.
    static func applyPlatform(_ platform: DomainPlatform, firmware: Firmware, loader: String?, to os: inout XElement) {
        if let order = platform.bootOrder {
            os.removeElements { $0.name == "boot" }
            for device in order { os.append(XElement("boot", [("dev", device.libvirtName)])) }
        }
        if let menu = platform.bootMenu {
            // Modified, not replaced: a `timeout` set outside the spec stays.
            os.modifyChild("bootmenu") { $0[attribute: "enable"] = menu ? "yes" : "no" }
        }
        switch platform.kernel {
        case .present(let kernel)?:
            os.setChild("kernel", XElement("kernel", text: kernel.path))
            os.setChild("initrd", kernel.initrd.map { XElement("initrd", text: $0) })
            os.setChild("cmdline", kernel.cmdline.map { XElement("cmdline", text: $0) })
        case .absent?:
            for name in ["kernel", "initrd", "cmdline", "dtb"] { os.setChild(name, nil) }
        case nil:
            break
        }
        if let secure = platform.secureBoot, firmware == .uefi {
            if loader != nil {
                os.modifyChild("loader") { $0[attribute: "secure"] = secure ? "yes" : "no" }
                os.setChild("firmware", nil)
            } else {
                // Autoselection: libvirt picks a firmware descriptor with these features (the
                // enrolled one carries Microsoft's keys, which most installers need).
                let value = secure ? "yes" : "no"
                os.setChild("firmware", XElement("firmware", children: [
                    .element(XElement("feature", [("enabled", value), ("name", "enrolled-keys")])),
                    .element(XElement("feature", [("enabled", value), ("name", "secure-boot")])),
                ]))
            }
        }
        if let template = platform.nvramTemplate, firmware == .uefi {
            os.modifyChild("nvram") { $0[attribute: "template"] = template }
        }
    }

    /// `<smm state='on'/>` in `<features>` when Secure Boot is on: the Secure Boot firmware
    /// refuses to run without System Management Mode.
    static func applySecureBootFeatures(_ model: DomainModel, to domain: inout XElement) {
        guard model.platform.secureBoot == true, model.firmware == .uefi,
              domain.child("features")?.child("smm")?[attribute: "state"] != "on" else { return }
        domain.modifyChild("features") { $0.setChild("smm", XElement("smm", [("state", "on")])) }
    }

    /// The managed devices of the platform, in the order libvirt lists them.
    static func platformDeviceElements(_ platform: DomainPlatform) -> [XElement] {
        var out: [XElement] = []
        for device in platform.passedThrough { out.append(hostDeviceElement(device)) }
        if platform.guestAgent == true { out.append(guestAgentElement()) }
        if platform.tablet == true { out.append(tabletElement()) }
        if let tpm = platform.tpm?.value { out.append(tpmElement(tpm)) }
        if let video = platform.video { out.append(videoElement(video)) }
        if let watchdog = platform.watchdog?.value { out.append(watchdogElement(watchdog)) }
        if let rng = platform.rng?.value { out.append(rngElement(rng)) }
        return out
    }

    static func guestAgentElement() -> XElement {
        XElement("channel", [("type", "unix")], children: [.element(XElement("target", [("type", "virtio"), ("name", guestAgentChannel)]))])
    }

    static func tabletElement() -> XElement { XElement("input", [("type", "tablet"), ("bus", "usb")]) }

    static func tpmElement(_ tpm: TPMDevice) -> XElement {
        XElement("tpm", [("model", tpm.model.libvirtName)],
                 children: [.element(XElement("backend", [("type", "emulator"), ("version", tpm.version.rawValue)]))])
    }

    static func videoElement(_ video: VideoDevice) -> XElement {
        var model = XElement("model", [("type", video.model.rawValue)])
        if let vram = video.vram { model[attribute: "vram"] = String(kib(vram)) }
        return XElement("video", children: [.element(model)])
    }

    static func watchdogElement(_ watchdog: WatchdogDevice) -> XElement {
        XElement("watchdog", [("model", watchdog.model.rawValue), ("action", watchdog.action.rawValue)])
    }

    /// The rate limit is written per second (period 1000 ms).
    static func rngElement(_ rng: RNGDevice) -> XElement {
        var element = XElement("rng", [("model", "virtio")])
        if let rate = rng.bytesPerSecond { element.append(XElement("rate", [("bytes", String(rate)), ("period", "1000")])) }
        element.append(XElement("backend", [("model", "random")], text: rng.source.rawValue))
        return element
    }

    /// A `managed` host device: libvirt detaches it from its host driver while the VM runs.
    static func hostDeviceElement(_ device: HostDevice) -> XElement {
        var element = XElement("hostdev", [("mode", "subsystem"), ("type", ""), ("managed", "yes")])
        var source = XElement("source")
        switch device {
        case .pci(let address):
            element[attribute: "type"] = "pci"
            let parts = pciParts(address)
            source.append(XElement("address", [("domain", "0x" + parts.domain), ("bus", "0x" + parts.bus),
                                               ("slot", "0x" + parts.slot), ("function", "0x" + parts.function)]))
        case .usb(let vendor, let product):
            element[attribute: "type"] = "usb"
            source.append(XElement("vendor", [("id", vendor)]))
            source.append(XElement("product", [("id", product)]))
        }
        element.append(source)
        return element
    }

    /// The fields of a normalized PCI address `dddd:bb:ss.f`.
    static func pciParts(_ address: String) -> (domain: String, bus: String, slot: String, function: String) {
        let colon = address.split(separator: ":", omittingEmptySubsequences: false)
        let slotFunction = (colon.count > 2 ? colon[2] : "").split(separator: ".", omittingEmptySubsequences: false)
        return (colon.first.map(String.init) ?? "0000", colon.count > 1 ? String(colon[1]) : "00",
                slotFunction.first.map(String.init) ?? "00", slotFunction.count > 1 ? String(slotFunction[1]) : "0")
    }
}
