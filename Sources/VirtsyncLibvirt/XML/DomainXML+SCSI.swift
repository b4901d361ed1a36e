import VirtsyncCore
import VirtsyncXML

/// The virtio-scsi controller of the model's `virtio-scsi` disks, and the I/O threads of disks.
///
/// libvirt has one bus name, `scsi`, for every SCSI controller; what makes a disk virtio-scsi is
/// the model of the controller its `<address controller>` names (0 when it has no address).
/// virtsync writes that controller at index 0, with the I/O thread the spec gives its disks.
extension LibvirtXML {
    /// `<controller type='scsi' index='0' model='virtio-scsi'>` when a disk of `model` is
    /// virtio-scsi, with `<driver iothread>` when one of them names a thread.
    static func scsiControllerElement(_ model: DomainModel) -> XElement? {
        let disks = model.disks.filter { $0.bus == .virtioScsi }
        guard !disks.isEmpty else { return nil }
        var element = XElement("controller", [("type", "scsi"), ("index", "0"), ("model", "virtio-scsi")])
        if let thread = disks.lazy.compactMap({ $0.options?.iothread }).first {
            element.append(XElement("driver", [("iothread", String(thread))]))
        }
        return element
    }

    /// `<driver iothread>` of a disk: a virtio disk's own (a virtio-scsi disk's is its controller's).
    static func diskThreadAttribute(_ disk: DiskModel) -> [(String, String)] {
        guard disk.bus == .virtio, let thread = disk.options?.iothread else { return [] }
        return [("iothread", String(thread))]
    }

    /// `disk` as read from `element`, with the bus and I/O thread of its SCSI controller: a disk
    /// on a virtio-scsi controller is `virtio-scsi` and runs in the controller's thread.
    static func resolvingController(_ disk: DiskModel, element: XElement, devices: XElement) -> DiskModel {
        guard disk.bus == .scsi else { return disk }
        let index = element.child("address")?[attribute: "controller"] ?? "0"
        guard let controller = scsiController(index: index, in: devices), controller[attribute: "model"] == "virtio-scsi" else { return disk }
        var out = disk
        out.bus = .virtioScsi
        if let thread = controller.child("driver")?[attribute: "iothread"].flatMap({ Int($0) }) {
            var options = out.options ?? DiskOptions()
            options.iothread = thread
            out.options = options
        }
        return out
    }

    /// Makes the SCSI controller at index 0 what the model's disks need, in a definition's
    /// `<devices>`: virtio-scsi (with the spec's I/O thread; one the spec leaves open stays) for
    /// virtio-scsi disks; for plain `scsi` disks, not virtio-scsi (libvirt then adds its default).
    /// Without SCSI disks in the model the controllers stay as they are.
    static func mergeSCSIController(_ devices: inout XElement, _ model: DomainModel) {
        let existing = devices.children.firstIndex { node in
            guard case .element(let e) = node else { return false }
            return e.name == "controller" && e[attribute: "type"] == "scsi" && (e[attribute: "index"] ?? "0") == "0"
        }
        if let wanted = scsiControllerElement(model) {
            guard let existing, case .element(var controller) = devices.children[existing] else {
                devices.append(wanted)
                return
            }
            controller[attribute: "model"] = "virtio-scsi"
            if let thread = wanted.child("driver")?[attribute: "iothread"] {
                var driver = controller.child("driver") ?? XElement("driver")
                driver[attribute: "iothread"] = thread
                controller.setChild("driver", driver)
            }
            devices.children[existing] = .element(controller)
        } else if model.disks.contains(where: { $0.bus == .scsi }), let existing,
                  case .element(let controller) = devices.children[existing], controller[attribute: "model"] == "virtio-scsi" {
            devices.children.remove(at: existing)
        }
    }

    private static func scsiController(index: String, in devices: XElement) -> XElement? {
        devices.children(named: "controller").first { $0[attribute: "type"] == "scsi" && ($0[attribute: "index"] ?? "0") == index }
    }
}
