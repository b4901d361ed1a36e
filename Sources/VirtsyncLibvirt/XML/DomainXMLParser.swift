import VirtsyncXML
import VirtsyncCore

/// A domain's persistent definition parsed into the model.
public struct ParsedDomain: Hashable, Sendable {
    /// The definition in model terms. `autostart`, `power` and `restartForUpdates` are not in
    /// the XML and are left at their defaults; `extraXML` is never parsed back (see `hatch`).
    public var model: DomainModel
    /// libvirt's UUID for the domain.
    public var uuid: String
    /// The ownership marker, when virtsync wrote this definition.
    public var marker: OwnershipMarker?
    /// The definition holds the stop marker (`LibvirtXML.stopMarkerNamespace`): virtsync
    /// stopped the domain on purpose and has not started it since.
    public var stoppedByVirtsync: Bool = false
    /// The raw XML at the paths virtsync's marker records (`nil` without a marker or paths).
    public var hatch: ObservedHatch?
}

extension LibvirtXML {
    /// Parses a domain's persistent XML (`VIR_DOMAIN_XML_INACTIVE`) into the model.
    ///
    /// Only fields the model has are read; libvirt's additions (addresses, controllers, aliases,
    /// seclabels, memballoon, ...) are ignored. The platform fields (`parsePlatform`) are read
    /// sparsely: what the XML lacks is `nil`. Fields the spec may leave open come back
    /// filled with libvirt's value: `uuid`, `maxVcpus`, `maxMemory`, `machine` (drivers that
    /// choose a default machine) and each interface's generated `mac`. A machine alias the spec
    /// asked for (recorded in the marker) reads back as the alias while libvirt's versioned
    /// machine still matches it, so `q35` does not turn into a change to `pc-q35-7.2`. Disks of a type other
    /// than `volume` or `file`, and interfaces of a type other than `network` or `bridge`, are
    /// not representable in the model and are skipped (they can only come from extra XML).
    /// A CD-ROM always reads back as read-only: libvirt forces that.
    public static func parseDomain(_ xml: String) throws(LibvirtXMLError) -> ParsedDomain {
        let root = try XMLParser.parse(xml)
        guard root.name == "domain" else { throw LibvirtXMLError(message: "expected <domain>, found <\(root.name)>") }
        guard let name = root.child("name")?.text, !name.isEmpty else {
            throw LibvirtXMLError(message: "domain without a name")
        }
        let uuid = root.child("uuid")?.text ?? ""

        guard let maxMemory = size(root.child("memory")) else {
            throw LibvirtXMLError(message: "domain \(name) has no <memory>")
        }
        let memory = size(root.child("currentMemory")) ?? maxMemory
        let vcpu = root.child("vcpu")
        let maxVcpus = vcpu.flatMap { Int($0.text.trimmed) } ?? 1
        let vcpus = vcpu?[attribute: "current"].flatMap { Int($0) } ?? maxVcpus

        let os = root.child("os")
        let markerElement = markerElement(in: root)
        var machine = os?.child("type")?[attribute: "machine"]
        if let requested = markerElement?[attribute: requestedMachineAttribute], let canonical = machine,
           LibvirtXML.machine(canonical, satisfies: requested) {
            // What the spec asked for, which libvirt resolved: compare the request, not the echo.
            machine = requested
        }
        let loaderElement = os?.child("loader")
        let firmware: Firmware
        let loader: String?
        if os?[attribute: "firmware"] == "efi" {
            // Autoselected firmware: whatever loader libvirt filled in is not the user's.
            firmware = .uefi
            loader = nil
        } else if let loaderElement {
            firmware = loaderElement[attribute: "type"] == "pflash" ? .uefi : .bios
            let path = loaderElement.text.trimmed
            loader = path.isEmpty ? nil : path
        } else {
            firmware = .bios
            loader = nil
        }
        let cpuMode = root.child("cpu")?[attribute: "mode"].flatMap(CPUMode.init(rawValue:))

        let devices = root.child("devices") ?? XElement("devices")
        var disks: [DiskModel] = []
        var interfaces: [InterfaceModel] = []
        var graphics = GraphicsType.none
        var serialConsole = false
        for case .element(let device) in devices.children {
            switch device.name {
            case "disk":
                if let disk = parseDisk(device) { disks.append(resolvingController(disk, element: device, devices: devices)) }
            case "interface":
                if let interface = parseInterface(device) { interfaces.append(interface) }
            case "graphics":
                if graphics == .none, let type = device[attribute: "type"].flatMap(GraphicsType.init(rawValue:)) {
                    graphics = type
                }
            case "serial", "console":
                if device[attribute: "type"] == "pty" { serialConsole = true }
            default:
                break
            }
        }

        var model = DomainModel(
            name: name, uuid: uuid.isEmpty ? nil : uuid, vcpus: vcpus, maxVcpus: maxVcpus,
            memory: memory, maxMemory: maxMemory, machine: machine, firmware: firmware, loader: loader,
            cpuMode: cpuMode, disks: disks, interfaces: interfaces, graphics: graphics,
            serialConsole: serialConsole, autostart: false)
        model.platform = parsePlatform(root)
        model.cpu = parseCPU(root)
        model.memoryTuning = parseMemoryTuning(root)
        model.graphicsListen = parseGraphicsListen(root)
        // A marker written for another domain came with a copy (virt-clone, dumpxml | define):
        // the copy is not virtsync's.
        let ownMarker = markerElement.flatMap { element in
            element[attribute: domainNameAttribute].map { $0 == name } ?? true ? marker(from: element) : nil
        }
        let recorded = ownMarker == nil ? [] : recordedHatchPaths(markerElement)
        let hatch = recorded.isEmpty ? nil
            : ObservedHatch(recorded: recorded, live: Hatch.unowned(in: root, document: .domain, covering: Hatch.recordedLeafPaths(recorded, document: .domain)))
        return ParsedDomain(model: model, uuid: uuid, marker: ownMarker,
                            stoppedByVirtsync: metadataElement(in: root, named: stopMarkerName, namespace: stopMarkerNamespace) != nil,
                            hatch: hatch)
    }

    /// Parses a running domain's live XML into the values that can differ from its definition.
    public static func parseLiveValues(_ xml: String) throws(LibvirtXMLError) -> LiveDomainValues {
        let root = try XMLParser.parse(xml)
        guard root.name == "domain" else { throw LibvirtXMLError(message: "expected <domain>, found <\(root.name)>") }
        guard let maxMemory = size(root.child("memory")) else {
            throw LibvirtXMLError(message: "domain has no <memory>")
        }
        let memory = size(root.child("currentMemory")) ?? maxMemory
        let vcpu = root.child("vcpu")
        let maxVcpus = vcpu.flatMap { Int($0.text.trimmed) } ?? 1
        let vcpus = vcpu?[attribute: "current"].flatMap { Int($0) } ?? maxVcpus
        var links: [String: Bool] = [:]
        var shaping: [String: InterfaceBandwidth] = [:]
        for interface in root.child("devices")?.children(named: "interface") ?? [] {
            guard let mac = interface.child("mac")?[attribute: "address"]?.lowercased() else { continue }
            links[mac] = interface.child("link")?[attribute: "state"] != "down"
            if let bandwidth = parseInterfaceOptions(interface)?.bandwidth { shaping[mac] = bandwidth }
        }
        let tune = root.child("cputune")
        return LiveDomainValues(memory: memory, maxMemory: maxMemory, vcpus: vcpus, maxVcpus: maxVcpus, linkUp: links,
                                vcpuPins: (tune?.children(named: "vcpupin").compactMap(parsePin) ?? []).sorted { $0.vcpu < $1.vcpu },
                                emulatorPin: tune?.child("emulatorpin")?[attribute: "cpuset"].flatMap { CPUSet(parsing: $0) },
                                bandwidth: shaping)
    }

    /// The ownership marker in a parsed `<domain>`.
    static func marker(in domain: XElement) -> OwnershipMarker? {
        markerElement(in: domain).map(marker(from:))
    }

    /// The ownership marker an element of virtsync's namespace holds.
    static func marker(from element: XElement) -> OwnershipMarker {
        let commit = element[attribute: "commit"]
        return OwnershipMarker(specDigest: element[attribute: "spec-digest"] ?? "",
                               commit: (commit?.isEmpty ?? true) ? nil : commit,
                               extraDigest: element[attribute: "extra-digest"] ?? "",
                               evacuatedFrom: element[attribute: LibvirtXML.evacuatedFromAttribute],
                               owner: element[attribute: LibvirtXML.ownerAttribute].flatMap { $0.isEmpty ? nil : $0 },
                               haEpoch: element[attribute: LibvirtXML.haEpochAttribute].flatMap { Int64($0) },
                               graphicsPassword: element[attribute: LibvirtXML.graphicsPasswordAttribute])
    }

    /// The `<metadata>` child in virtsync's namespace, whatever prefix it was written with.
    static func markerElement(in domain: XElement) -> XElement? {
        metadataElement(in: domain, named: OwnershipMarker.element, namespace: OwnershipMarker.namespace)
    }

    /// The `<metadata>` child with this local name in this namespace, whatever its prefix.
    static func metadataElement(in domain: XElement, named name: String, namespace: String) -> XElement? {
        guard let metadata = domain.child("metadata") else { return nil }
        for element in metadata.elements {
            let (prefix, local) = splitName(element.name)
            guard local == name else { continue }
            let declaration = prefix.map { "xmlns:\($0)" } ?? "xmlns"
            if element[attribute: declaration] == namespace { return element }
        }
        return nil
    }

    private static func splitName(_ name: String) -> (prefix: String?, local: String) {
        guard let colon = name.firstIndex(of: ":") else { return (nil, name) }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }

    static func parseDisk(_ element: XElement) -> DiskModel? {
        let device = element[attribute: "device"] ?? "disk"
        guard device == "disk" || device == "cdrom" else { return nil }
        // `virtio-scsi` is no bus name of libvirt's: `resolvingController` tells it from `scsi`.
        guard let targetElement = element.child("target"), let target = targetElement[attribute: "dev"],
              let bus = targetElement[attribute: "bus"].flatMap(DiskBus.init(rawValue:)), bus != .virtioScsi else { return nil }
        let sourceElement = element.child("source")
        let source: DiskSource
        switch element[attribute: "type"] ?? "file" {
        case "volume":
            guard let pool = sourceElement?[attribute: "pool"], let volume = sourceElement?[attribute: "volume"] else { return nil }
            source = .volume(pool: pool, volume: volume)
        case "file":
            guard let path = sourceElement?[attribute: "file"] else { return nil }
            source = .file(path: path)
        case "block":
            guard let path = sourceElement?[attribute: "dev"] else { return nil }
            source = .block(path: path)
        case "network":
            guard let sourceElement, let network = parseNetworkDisk(sourceElement, disk: element) else { return nil }
            source = .network(network)
        default:
            return nil
        }
        return DiskModel(target: target, bus: bus, cdrom: device == "cdrom", source: source,
                         readonly: element.child("readonly") != nil,
                         encryption: LibvirtXML.encryptionUUID(sourceElement?.child("encryption") ?? element.child("encryption")),
                         options: LibvirtXML.parseDiskOptions(element))
    }

    /// A network disk's source; `<auth>` is read inside `<source>` (where virtsync writes it) or
    /// beside it (libvirt's older place).
    static func parseNetworkDisk(_ source: XElement, disk: XElement) -> NetworkDisk? {
        guard let proto = source[attribute: "protocol"].flatMap(NetworkDiskProtocol.init(rawValue:)) else { return nil }
        let hosts = source.children(named: "host").compactMap { host in
            host[attribute: "name"].map { NetworkDiskHosts.join($0, host[attribute: "port"]) }
        }
        var auth: DiskAuth?
        if let element = source.child("auth") ?? disk.child("auth"), let username = element[attribute: "username"],
           let secret = element.child("secret"), let type = secret[attribute: "type"], let uuid = secret[attribute: "uuid"] {
            auth = DiskAuth(username: username, secretType: type, secretUUID: uuid)
        }
        return NetworkDisk(protocol: proto, name: source[attribute: "name"], hosts: hosts, auth: auth)
    }

    static func parseInterface(_ element: XElement) -> InterfaceModel? {
        let sourceElement = element.child("source")
        let source: InterfaceSource
        switch element[attribute: "type"] {
        case "network":
            guard let name = sourceElement?[attribute: "network"] else { return nil }
            source = .network(name)
        case "bridge":
            guard let name = sourceElement?[attribute: "bridge"] else { return nil }
            source = .bridge(name)
        case "direct":
            guard let device = sourceElement?[attribute: "dev"] else { return nil }
            // libvirt writes the mode it uses; vepa is its default.
            guard let mode = DirectMode(rawValue: sourceElement?[attribute: "mode"] ?? "vepa") else { return nil }
            source = .direct(device: device, mode: mode)
        default:
            return nil
        }
        return InterfaceModel(source: source, mac: element.child("mac")?[attribute: "address"],
                              model: element.child("model")?[attribute: "type"] ?? "",
                              linkUp: element.child("link")?[attribute: "state"] != "down",
                              options: LibvirtXML.parseInterfaceOptions(element))
    }

    /// A size element (`<memory unit='KiB'>1024</memory>`, `<capacity unit='bytes'>`) in bytes.
    /// Without a unit, `defaultUnit` applies (KiB for domain memory, bytes for volumes).
    static func size(_ element: XElement?, defaultUnit: String = "KiB") -> ByteSize? {
        guard let element, let value = UInt64(element.text.trimmed) else { return nil }
        guard let factor = unitFactor(element[attribute: "unit"] ?? defaultUnit) else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : ByteSize(bytes: bytes)
    }

    /// libvirt's scaled integer units.
    static func unitFactor(_ unit: String) -> UInt64? {
        switch unit {
        case "b", "bytes": return 1
        case "KB": return 1_000
        case "k", "K", "KiB": return 1 << 10
        case "MB": return 1_000_000
        case "m", "M", "MiB": return 1 << 20
        case "GB": return 1_000_000_000
        case "g", "G", "GiB": return 1 << 30
        case "TB": return 1_000_000_000_000
        case "t", "T", "TiB": return 1 << 40
        case "PB": return 1_000_000_000_000_000
        case "p", "P", "PiB": return 1 << 50
        case "EB": return 1_000_000_000_000_000_000
        case "e", "E", "EiB": return 1 << 60
        default: return nil
        }
    }
}

extension String {
    /// The string without surrounding ASCII whitespace.
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
