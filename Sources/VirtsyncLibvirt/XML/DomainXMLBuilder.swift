import VirtsyncXML
import VirtsyncCore

/// libvirt XML out of the model and back: builders, parsers and the update merge.
///
/// Everything is built as a tree and escaped; the user's raw XML fragments (`ExtraXML`) are
/// parsed and placed at their paths (`applyHatch`).
public enum LibvirtXML {}

extension LibvirtXML {
    /// Attribute of the ownership marker holding the machine type as the spec wrote it.
    static let requestedMachineAttribute = "requested-machine"
    /// The name of the domain the marker was written for; a copy under another name is not managed.
    static let domainNameAttribute = "domain-name"
    /// Where graphics listen: never on a public address by default.
    static let graphicsListen = "127.0.0.1"

    /// The persistent definition of a new domain.
    /// - Parameters:
    ///   - model: the desired domain.
    ///   - marker: the ownership marker written into `<metadata>`.
    ///   - domainType: libvirt's domain type: `kvm`, `qemu` (TCG) or `test`; see
    ///     `LibvirtSession.domainType(capabilitiesXML:uri:)`.
    ///   - volumeFormats: formats of the volumes the disks use, keyed by `pool/volume`; a disk
    ///     whose volume is missing here gets no `<driver type>` and libvirt decides.
    public static func domain(_ model: DomainModel, marker: OwnershipMarker, domainType: String,
                              volumeFormats: [String: VolumeFormat] = [:]) -> String {
        domainElement(model, marker: marker, domainType: domainType, volumeFormats: volumeFormats).serialized()
    }

    static func domainElement(_ model: DomainModel, marker: OwnershipMarker, domainType: String,
                              volumeFormats: [String: VolumeFormat]) -> XElement {
        var domain = XElement("domain", [("type", domainType)])
        domain.append(XElement("name", text: model.name))
        if let uuid = model.uuid { domain.append(XElement("uuid", text: uuid)) }
        domain.append(XElement("metadata", children: [.element(markerElement(marker, model: model))]))
        for element in sizingElements(model) { domain.append(element) }
        for element in tuningElements(model) { domain.append(element) }
        domain.append(osElement(model, existing: nil))
        if let cpu = cpuElement(model) { domain.append(cpu) }
        domain.append(defaultFeatures())
        applySecureBootFeatures(model, to: &domain)
        var devices = XElement("devices")
        for element in deviceElements(model, volumeFormats: volumeFormats) { devices.append(element) }
        domain.append(devices)
        // Raw XML at its paths; a fragment's `<features>` replaces the default one.
        applyHatch(Hatch.leaves(model.extraXML), recorded: [], document: .domain, keepMatching: false, to: &domain)
        return domain
    }

    /// `<virtsync:managed .../>` for `<metadata>`.
    ///
    /// Besides the `OwnershipMarker` fields it records what the parser and the next update need
    /// and libvirt does not keep: the machine type as the spec wrote it (the QEMU driver stores
    /// `q35` as `pc-q35-7.2`) and the paths the raw XML fragments were written to.
    /// Attribute of the ownership marker naming the host a VM left for maintenance.
    public static let evacuatedFromAttribute = "evacuated-from"
    /// Attribute of the ownership marker naming the spec source that owns the domain.
    public static let ownerAttribute = "owner"
    /// Attribute of the ownership marker naming the display password's secret and keyed digest.
    public static let graphicsPasswordAttribute = "graphics-password"
    /// Attribute of the ownership marker holding the HA epoch the running copy was started with.
    public static let haEpochAttribute = "ha-epoch"

    static func markerElement(_ marker: OwnershipMarker, model: DomainModel) -> XElement {
        let tag = "\(OwnershipMarker.prefix):\(OwnershipMarker.element)"
        var attributes: [(String, String)] = [
            ("xmlns:\(OwnershipMarker.prefix)", OwnershipMarker.namespace),
            ("spec-digest", marker.specDigest),
            (domainNameAttribute, model.name),
        ]
        if let commit = marker.commit { attributes.append(("commit", commit)) }
        attributes.append(("extra-digest", marker.extraDigest))
        if let home = marker.evacuatedFrom { attributes.append((evacuatedFromAttribute, home)) }
        if let owner = marker.owner { attributes.append((ownerAttribute, owner)) }
        if let epoch = marker.haEpoch { attributes.append((haEpochAttribute, String(epoch))) }
        if let password = marker.graphicsPassword { attributes.append((graphicsPasswordAttribute, password)) }
        if let machine = model.machine { attributes.append((requestedMachineAttribute, machine)) }
        let hatchPaths = Hatch.paths(of: Hatch.leaves(model.extraXML))
        if !hatchPaths.isEmpty { attributes.append((hatchPathsAttribute, hatchPaths.joined(separator: " "))) }
        return XElement(tag, attributes)
    }

    /// Namespace of the stop marker: the `<metadata>` element virtsync adds to a domain it
    /// stopped on purpose (a `stop` step) and removes when it starts the domain, so that a
    /// stopped domain tells "virtsync stopped it" from "it crashed or was shut down".
    public static let stopMarkerNamespace = "https://virtsync.dev/xmlns/stopped/1"
    /// Prefix of the stop marker: the key given to `virDomainSetMetadata`.
    public static let stopMarkerPrefix = "virtsync-stop"
    /// Local name of the stop marker.
    static let stopMarkerName = "stopped"

    /// The stop marker's element as `virDomainSetMetadata` (`VIR_DOMAIN_METADATA_ELEMENT`)
    /// takes it: libvirt puts it into `stopMarkerNamespace` with `stopMarkerPrefix`, giving
    /// `<virtsync-stop:stopped xmlns:virtsync-stop="…" at="…"/>`. `at` is when virtsync
    /// stopped the domain (ISO 8601), for people reading the XML.
    static func stopMarker(at timestamp: String) -> String {
        XElement(stopMarkerName, [("at", timestamp)]).serialized()
    }

    /// `<memory>`, `<currentMemory>` and `<vcpu>`.
    static func sizingElements(_ model: DomainModel) -> [XElement] {
        let maxMemory = max(model.maxMemory ?? model.memory, model.memory)
        let maxVcpus = max(model.maxVcpus ?? model.vcpus, model.vcpus)
        return [
            XElement("memory", [("unit", "KiB")], text: String(kib(maxMemory))),
            XElement("currentMemory", [("unit", "KiB")], text: String(kib(model.memory))),
            XElement("vcpu", [("current", String(model.vcpus))], text: String(maxVcpus)),
        ]
    }

    /// Kibibytes, rounded up (libvirt's unit for domain memory).
    static func kib(_ size: ByteSize) -> UInt64 { size.bytes / 1024 + (size.bytes % 1024 == 0 ? 0 : 1) }

    /// `<os>`: the owned parts (firmware, machine, loader) over what an existing `<os>` holds
    /// (boot order, arch, nvram and whatever else libvirt keeps there).
    static func osElement(_ model: DomainModel, existing: XElement?) -> XElement {
        var os = existing ?? XElement("os")
        let autoEFI = model.firmware == .uefi && model.loader == nil
        os[attribute: "firmware"] = autoEFI ? "efi" : nil
        os.modifyChild("type") { type in
            type.children = [.text("hvm")]
            let current = type[attribute: "machine"]
            if let wanted = model.machine {
                // Keep the versioned machine an alias already resolved to: rewriting the alias
                // would move the guest to a newer machine version after a QEMU upgrade.
                if let current, machine(current, satisfies: wanted) { return }
                type[attribute: "machine"] = wanted
            }
        }
        // Keep the type first: libvirt does not care, readers do.
        if let index = os.children.firstIndex(where: { if case .element(let e) = $0 { return e.name == "type" } else { return false } }),
           index != 0 {
            let type = os.children.remove(at: index)
            os.children.insert(type, at: 0)
        }
        if let loader = model.loader {
            let kind = model.firmware == .uefi ? "pflash" : "rom"
            os.setChild("loader", XElement("loader", [("readonly", "yes"), ("type", kind)], text: loader))
        } else if existing?.child("loader") != nil {
            os.setChild("loader", nil)
        }
        if !autoEFI {
            // Autoselection features only go with `firmware='efi'`.
            os.setChild("firmware", nil)
        }
        if model.firmware == .bios {
            // UEFI variables make no sense for a BIOS guest.
            os.setChild("nvram", nil)
        }
        applyPlatform(model.platform, firmware: model.firmware, loader: model.loader, to: &os)
        return os
    }

    /// Whether libvirt's (canonical) machine type is what the spec asked for: the same, or the
    /// versioned machine of an alias (`q35` → `pc-q35-7.2`, `pc` → `pc-i440fx-7.2`,
    /// `virt` → `virt-7.2`).
    public static func machine(_ canonical: String, satisfies requested: String) -> Bool {
        if canonical == requested { return true }
        switch requested {
        case "pc": return canonical.hasPrefix("pc-i440fx-")
        case "q35": return canonical.hasPrefix("pc-q35-")
        default: return canonical.hasPrefix(requested + "-") && !requested.isEmpty
        }
    }

    /// `<features>` every guest gets unless the domain fragment brings its own: ACPI (graceful
    /// shutdown; UEFI requires it on x86) and the APIC.
    static func defaultFeatures() -> XElement {
        XElement("features", children: [.element(XElement("acpi")), .element(XElement("apic"))])
    }

    /// `<cpu>` (see `mergedCPU`), or `nil` to leave the CPU to libvirt.
    static func cpuElement(_ model: DomainModel) -> XElement? {
        mergedCPU(model, existing: nil)
    }

    /// The devices the model owns: disks, interfaces, serial console, graphics.
    static func deviceElements(_ model: DomainModel, volumeFormats: [String: VolumeFormat]) -> [XElement] {
        var result = model.disks.map { diskElement($0, volumeFormats: volumeFormats) }
        if let controller = scsiControllerElement(model) { result.append(controller) }
        result += model.interfaces.map { interfaceElement($0) }
        if model.serialConsole { result += serialConsoleElements() }
        if let graphics = graphicsElement(model.graphics, password: model.graphicsPassword, listen: model.graphicsListen) {
            result.append(graphics)
        }
        result += platformDeviceElements(model.platform)
        return result
    }

    static func diskElement(_ disk: DiskModel, volumeFormats: [String: VolumeFormat]) -> XElement {
        var element: XElement
        let device = disk.cdrom ? "cdrom" : "disk"
        var format: VolumeFormat?
        let source: XElement
        switch disk.source {
        case .volume(let pool, let volume):
            element = XElement("disk", [("type", "volume"), ("device", device)])
            format = volumeFormats["\(pool)/\(volume)"]
            var volumeSource = XElement("source", [("pool", pool), ("volume", volume)])
            if let uuid = disk.encryption { volumeSource.append(encryptionElement(uuid)) }
            source = volumeSource
        case .file(let path):
            element = XElement("disk", [("type", "file"), ("device", device)])
            source = XElement("source", [("file", path)])
        case .block(let path):
            element = XElement("disk", [("type", "block"), ("device", device)])
            source = XElement("source", [("dev", path)])
        case .network(let network):
            element = XElement("disk", [("type", "network"), ("device", device)])
            source = networkDiskSource(network)
            // RBD images and iSCSI LUNs are raw to QEMU; an NBD export is whatever its server serves.
            if network.protocol != .nbd { format = .raw }
        }
        // An ISO image is raw data to QEMU.
        let type = format.map { [("type", $0 == .qcow2 ? "qcow2" : "raw")] } ?? []
        let tuning = driverAttributes(disk.options) + diskThreadAttribute(disk)
        if format != nil || !tuning.isEmpty {
            element.append(XElement("driver", [("name", "qemu")] + type + tuning))
        }
        element.append(source)
        element.append(XElement("target", [("dev", disk.target), ("bus", disk.bus.libvirtBus)]))
        for option in optionElements(disk.options) where option.name == "iotune" { element.append(option) }
        if disk.readonly || disk.cdrom { element.append(XElement("readonly")) }
        for option in optionElements(disk.options) where option.name != "iotune" { element.append(option) }
        return element
    }

    /// `<source protocol name>` with its hosts and, inside it, `<auth>` naming the secret object.
    static func networkDiskSource(_ network: NetworkDisk) -> XElement {
        var source = XElement("source", [("protocol", network.protocol.rawValue)] + (network.name.map { [("name", $0)] } ?? []))
        for host in network.hosts {
            let (name, port) = NetworkDiskHosts.split(host)
            source.append(XElement("host", [("name", name)] + (port.map { [("port", $0)] } ?? [])))
        }
        if let auth = network.auth {
            source.append(XElement("auth", [("username", auth.username)],
                                   children: [.element(XElement("secret", [("type", auth.secretType), ("uuid", auth.secretUUID)]))]))
        }
        return source
    }

    static func interfaceElement(_ interface: InterfaceModel) -> XElement {
        var element: XElement
        let source: XElement
        switch interface.source {
        case .network(let name):
            element = XElement("interface", [("type", "network")])
            source = XElement("source", [("network", name)] + (interface.options?.portgroup.map { [("portgroup", $0)] } ?? []))
        case .bridge(let name):
            element = XElement("interface", [("type", "bridge")])
            source = XElement("source", [("bridge", name)])
        case .direct(let device, let mode):
            element = XElement("interface", [("type", "direct")])
            source = XElement("source", [("dev", device), ("mode", mode.rawValue)])
        }
        if let mac = interface.mac { element.append(XElement("mac", [("address", mac)])) }
        element.append(source)
        for option in interfaceSourceOptionElements(interface.options) { element.append(option) }
        element.append(XElement("model", [("type", interface.model)]))
        if let queues = interface.options?.queues { element.append(XElement("driver", [("queues", String(queues))])) }
        if !interface.linkUp { element.append(XElement("link", [("state", "down")])) }
        if let mtu = interface.options?.mtu { element.append(XElement("mtu", [("size", String(mtu))])) }
        return element
    }

    static func serialConsoleElements() -> [XElement] {
        [
            XElement("serial", [("type", "pty")], children: [.element(XElement("target", [("port", "0")]))]),
            XElement("console", [("type", "pty")], children: [.element(XElement("target", [("type", "serial"), ("port", "0")]))]),
        ]
    }

    static func graphicsElement(_ type: GraphicsType, password: SecretMaterial? = nil, listen: String? = nil) -> XElement? {
        guard type != .none else { return nil }
        let address = listen ?? graphicsListen
        var element = XElement("graphics", [("type", type.rawValue), ("autoport", "yes"), ("listen", address)],
                               children: [.element(XElement("listen", [("type", "address"), ("address", address)]))])
        setPassword(password, on: &element)
        return element
    }

    /// Writes the password's value into a `<graphics>` element (`passwd`). libvirt shows it only
    /// to `VIR_DOMAIN_XML_SECURE` readers, which virtsync never is: the marker records its digest.
    static func setPassword(_ password: SecretMaterial?, on element: inout XElement) {
        guard let value = password?.value else { return }
        element[attribute: "passwd"] = String(decoding: value.bytes, as: UTF8.self)
    }
}
