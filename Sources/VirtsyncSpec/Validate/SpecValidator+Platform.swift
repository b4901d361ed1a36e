import VirtsyncCore
import VirtsyncXML

extension SpecValidator {
    /// In a spec of several hosts, a VM with PCI or USB host devices is tied to the host that
    /// has them: it must name that host (not `placement`), and maintenance shuts it down instead of migrating it
    /// (the migration pre-flight would refuse the move anyway).
    func checkHostDevicePinning() {
        guard index.hostNames.count > 1 else { return }
        for vm in spec.machines {
            guard let location = vm.hostDevicesAt else { continue }
            let path = vm.header.path + ".hostDevices"
            if vm.placement != nil {
                // (A VM with neither is reported as missing 'host' already.)
                reporter.error(location, path, "a VM with host devices cannot move between hosts: pin it with 'host' (the host that has the devices) instead of 'placement'")
            }
            if vm.onMaintenance == .migrate {
                reporter.error(location, path, "a VM with host devices cannot migrate; use onMaintenance: shutdown (the default for such a VM)")
            }
        }
    }

    /// A boot order that names a device class the VM does not have boots from nothing there:
    /// most likely a CD-ROM or interface that was meant to be in the spec (a warning).
    func checkBootOrder() {
        for vm in spec.machines {
            guard let order = vm.platform.bootOrder, let location = vm.bootOrderAt else { continue }
            let path = vm.header.path + ".boot.order"
            if order.contains(.cdrom), !vm.disks.contains(where: \.cdrom), vm.cloudInit == nil {
                reporter.warning(location, path, "the boot order names cdrom, but the VM has no CD-ROM")
            }
            if order.contains(.network), vm.interfaces.isEmpty {
                reporter.warning(location, path, "the boot order names network, but the VM has no interface")
            }
            if order.contains(.disk), !vm.disks.contains(where: { !$0.cdrom }) {
                reporter.warning(location, path, "the boot order names disk, but the VM has no disk")
            }
        }
    }

    /// A device both a platform field and the `xml.devices` escape hatch define would reach
    /// libvirt twice (and be fought over by every update): an error naming the field to use.
    func checkPlatformAgainstEscapeHatch() {
        for vm in spec.machines {
            guard let fragment = vm.xmlDevices, let location = vm.xmlDevicesAt,
                  let elements = try? XMLParser.parseFragment(fragment) else { continue }
            var fields: [String] = []
            for element in elements {
                guard let field = Self.platformField(of: element, managedBy: vm.platform), !fields.contains(field) else { continue }
                fields.append(field)
                reporter.error(location, vm.header.path + ".xml.devices",
                               "<\(element.name)> is also given by '\(field)': use the field, not raw XML, for this device")
            }
        }
    }

    /// The platform field that manages the device class of `element`, when the spec sets it.
    static func platformField(of element: XElement, managedBy platform: DomainPlatform) -> String? {
        switch element.name {
        case "tpm" where platform.tpm != nil: return "tpm"
        case "rng" where platform.rng != nil: return "rng"
        case "watchdog" where platform.watchdog != nil: return "watchdog"
        case "video" where platform.video != nil: return "video"
        case "hostdev" where platform.hostDevices != nil && ["pci", "usb"].contains(element[attribute: "type"] ?? ""): return "hostDevices"
        case "input" where platform.tablet != nil && element[attribute: "type"] == "tablet": return "tablet"
        case "channel" where platform.guestAgent != nil && element.child("target")?[attribute: "name"] == "org.qemu.guest_agent.0":
            return "guestAgent"
        default: return nil
        }
    }
}
