import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// The new persistent definition of an existing domain: its current definition with only
    /// the owned elements replaced.
    ///
    /// Owned: `<memory>`, `<currentMemory>`, `<vcpu>` (other attributes such as `placement`
    /// survive), firmware/machine/loader in `<os>` (boot order, arch and nvram survive), `<cpu>`
    /// when the model sets a mode, the ownership marker, the disks of type `volume`/`file`, the
    /// interfaces of type `network`/`bridge`/`direct`, the pty serial console, VNC/SPICE graphics, the
    /// platform fields the model manages (`applyPlatform`, `mergePlatformDevices`), and the
    /// raw XML at the paths the old marker records and the new fragments write to (see
    /// `applyHatch`: an element there that already satisfies the fragment stays as libvirt has
    /// it). Everything else is kept: controllers, other metadata (the stop marker of a
    /// domain virtsync stopped included, so a stopped domain stays marked), libvirt's defaults, and
    /// `<features>` (added with ACPI and APIC when missing and no fragment brings it).
    /// A device that corresponds to one of the model (a disk by target, an interface by MAC, or
    /// by source when the spec leaves the MAC open) keeps its `<address>` and `<boot>`, and an
    /// interface without a MAC in the spec keeps libvirt's generated MAC and the options the spec
    /// leaves open (`keepOpenInterfaceOptions`). The name and UUID are
    /// the existing ones. `maxVcpus`/`maxMemory` left `nil` keep the existing ceiling (raised
    /// to the current value when needed). A change of chipset (`pc` ↔ `q35`) drops the
    /// controllers and device addresses, which libvirt then lays out for the new machine.
    /// - Throws: `LibvirtXMLError` when `current` is not a domain definition.
    public static func updatedDomain(current: String, model: DomainModel, marker: OwnershipMarker,
                                     volumeFormats: [String: VolumeFormat] = [:]) throws(LibvirtXMLError) -> String {
        var root = try XMLParser.parse(current)
        guard root.name == "domain" else { throw LibvirtXMLError(message: "expected <domain>, found <\(root.name)>") }
        let oldMarker = markerElement(in: root)
        let recordedHatch = recordedHatchPaths(oldMarker)

        // Metadata: replace our marker, keep other applications' elements.
        let newMarker = markerElement(marker, model: model)
        root.modifyChild("metadata") { metadata in
            if let old = oldMarker { metadata.removeElements { $0 == old } }
            metadata.append(newMarker)
        }

        // Sizing, with the ceilings kept when the spec leaves them open.
        let existingMaxMemory = size(root.child("memory"))
        let existingMaxVcpus = root.child("vcpu").flatMap { Int($0.text.trimmed) }
        let maxMemory = model.maxMemory ?? max(existingMaxMemory ?? model.memory, model.memory)
        let maxVcpus = model.maxVcpus ?? max(existingMaxVcpus ?? model.vcpus, model.vcpus)
        root.modifyChild("memory") { $0.attributes = [(name: "unit", value: "KiB")]; $0.children = [.text(String(kib(maxMemory)))] }
        root.modifyChild("currentMemory") { $0.attributes = [(name: "unit", value: "KiB")]; $0.children = [.text(String(kib(model.memory)))] }
        root.modifyChild("vcpu") {
            $0[attribute: "current"] = String(model.vcpus)
            $0.children = [.text(String(max(maxVcpus, model.vcpus)))]
        }

        let existingMachine = root.path("os/type")?[attribute: "machine"]
        root.setChild("os", osElement(model, existing: root.child("os")))
        if let cpu = mergedCPU(model, existing: root.child("cpu")) { root.setChild("cpu", cpu) }
        mergeTuning(model, into: &root)

        let devices = root.child("devices") ?? XElement("devices")
        // A password virtsync never set (an adopted VM's, read with VIR_DOMAIN_XML_SECURE) is the
        // spec's to leave alone; one it set and the spec dropped goes.
        let passwordManaged = oldMarker?[attribute: graphicsPasswordAttribute] != nil
        var merged = mergedDevices(devices, model: model, volumeFormats: volumeFormats, keepUnmanagedPassword: !passwordManaged)
        if let wanted = model.machine, let existingMachine, machineFamily(wanted) != machineFamily(existingMachine) {
            // Another chipset (i440fx ↔ q35) has other controllers and buses: let libvirt lay
            // the devices out again instead of keeping addresses that cannot exist there.
            merged.removeElements { $0.name == "controller" }
            merged.children = merged.children.map { node in
                guard case .element(var device) = node else { return node }
                device.removeElements { $0.name == "address" }
                return .element(device)
            }
        }
        mergeSCSIController(&merged, model)
        mergePlatformDevices(&merged, model.platform)
        root.setChild("devices", merged)

        // Raw XML: what the old marker records and the spec no longer has goes, the spec's is put
        // at its paths (after the owned parts, so a `<cpu>` replaced for its mode gets its raw
        // children back).
        applyHatch(Hatch.leaves(model.extraXML), recorded: recordedHatch, document: .domain, keepMatching: true, to: &root)
        if root.child("features") == nil { root.append(defaultFeatures()) }
        applySecureBootFeatures(model, to: &root)
        return root.serialized()
    }

    private static func mergedDevices(_ devices: XElement, model: DomainModel, volumeFormats: [String: VolumeFormat], keepUnmanagedPassword: Bool) -> XElement {
        let existingDisks = devices.children(named: "disk").compactMap { e in parseDisk(e).map { (element: e, model: $0) } }
        let existingInterfaces = devices.children(named: "interface").compactMap { e in
            parseInterface(e).map { (element: e, model: $0) }
        }
        let existingSerial = devices.elements.filter { ($0.name == "serial" || $0.name == "console") && $0[attribute: "type"] == "pty" }
        let existingGraphics = devices.children(named: "graphics").filter { e in
            e[attribute: "type"].flatMap(GraphicsType.init(rawValue:)).map { $0 != .none } ?? false
        }

        var owned: [XElement] = []
        for disk in model.disks {
            var element = diskElement(disk, volumeFormats: volumeFormats)
            if let match = existingDisks.first(where: { $0.model.target == disk.target }) {
                carry(["boot"], from: match.element, to: &element)
                if match.model.bus.libvirtBus == disk.bus.libvirtBus { carry(["address"], from: match.element, to: &element) }
                // Encryption the spec does not manage (an adopted VM's LUKS disk) stays: without
                // it the guest could not open the disk at its next boot.
                if disk.encryption == nil, match.model.source == disk.source {
                    carry(["encryption"], from: match.element, to: &element)
                    if let kept = match.element.child("source")?.child("encryption") {
                        element.modifyChild("source") { source in if source.child("encryption") == nil { source.append(kept) } }
                    }
                }
            }
            owned.append(element)
        }

        let explicitMACs = Set(model.interfaces.compactMap(\.mac))
        var claimed = Set<Int>()
        for interface in model.interfaces {
            let match: Int?
            if let mac = interface.mac {
                match = existingInterfaces.indices.first { !claimed.contains($0) && existingInterfaces[$0].model.mac == mac }
            } else {
                match = existingInterfaces.indices.first {
                    !claimed.contains($0) && existingInterfaces[$0].model.source == interface.source
                        && !explicitMACs.contains(existingInterfaces[$0].model.mac ?? "")
                }
            }
            var wanted = interface
            if let match {
                claimed.insert(match)
                if wanted.mac == nil { wanted.mac = existingInterfaces[match].model.mac }
            }
            var element = interfaceElement(wanted)
            if let match {
                carry(["address", "boot"], from: existingInterfaces[match].element, to: &element)
                keepOpenInterfaceOptions(from: existingInterfaces[match].element, existingSource: existingInterfaces[match].model.source,
                                         wanted: wanted, into: &element)
            }
            owned.append(element)
        }

        let keepSerial = model.serialConsole && existingSerial.contains { $0.name == "serial" }
        if keepSerial {
            owned += existingSerial
        } else if model.serialConsole {
            owned += serialConsoleElements()
        }
        if let graphics = graphicsElement(model.graphics, password: model.graphicsPassword, listen: model.graphicsListen) {
            if var first = existingGraphics.first, first[attribute: "type"] == model.graphics.rawValue {
                if let listen = model.graphicsListen { setListen(listen, on: &first) }
                // The spec's password, or none; one the spec never managed stays as it is.
                if model.graphicsPassword != nil || !keepUnmanagedPassword { first[attribute: "passwd"] = nil }
                setPassword(model.graphicsPassword, on: &first)
                owned += [first] + existingGraphics.dropFirst()
            } else {
                owned.append(graphics)
            }
        }

        // Everything the model does not own stays (raw XML is placed by `applyHatch`).
        let ownedExisting: [XElement] = existingDisks.map(\.element) + existingInterfaces.map(\.element)
            + existingSerial + existingGraphics
        var result = devices
        result.children = devices.children.filter { node in
            guard case .element(let e) = node else { return false }
            return !ownedExisting.contains(e)
        }
        for element in owned { result.append(element) }
        return result
    }

    /// The chipset family of a machine type: `i440fx` for `pc` and `pc-i440fx-*`, `q35` for
    /// `q35` and `pc-q35-*`, else the name without its version suffix (`virt-7.2` → `virt`).
    static func machineFamily(_ machine: String) -> String {
        if machine == "pc" || machine.hasPrefix("pc-i440fx") { return "i440fx" }
        if machine == "q35" || machine.hasPrefix("pc-q35") { return "q35" }
        let parts = machine.split(separator: "-")
        if parts.count > 1, let last = parts.last, last.first?.isNumber == true {
            return parts.dropLast().joined(separator: "-")
        }
        return machine
    }

    /// Copies the named child elements (libvirt's details) from an existing device.
    private static func carry(_ names: [String], from existing: XElement, to element: inout XElement) {
        for name in names {
            for child in existing.children(named: name) where element.child(name) == nil {
                element.append(child)
            }
        }
    }
}
