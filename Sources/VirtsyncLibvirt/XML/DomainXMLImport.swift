import VirtsyncXML
import VirtsyncCore

/// What of a domain's definition the model does not cover, for `virtsync import`.
public struct UncoveredDomainXML: Sendable, Equatable {
    /// Top-level elements (serialized) that are neither the model's nor the marker.
    public var domainElements: [String] = []
    /// `<devices>` children that are not the model's devices.
    public var deviceElements: [String] = []
    /// What the model covers only in part, in words: kept on the host by virtsync's updates
    /// (which change only the owned elements), but not in the spec.
    public var partlyCovered: [String] = []
}

extension LibvirtXML {
    /// Top-level domain elements the model reads (`<metadata>` is handled apart).
    static let coveredDomainElements: Set<String> = ["name", "uuid", "memory", "currentMemory", "vcpu", "os", "cpu", "devices", "metadata",
                                                     "cputune", "numatune", "memoryBacking"]
    /// Children of the elements the model covers in part that it does read.
    static let coveredTuningChildren: [String: Set<String>] = [
        "cpu": ["model", "feature", "topology", "numa"],
        "cputune": ["vcpupin", "emulatorpin"],
        "numatune": ["memory"],
        "memoryBacking": ["hugepages", "locked"],
    ]

    /// `<os>` children the model reads: the firmware and the platform's boot fields.
    static let coveredOSElements: Set<String> = ["type", "loader", "boot", "bootmenu", "kernel", "initrd", "cmdline", "firmware"]

    /// Splits an inactive domain definition into what the model covers and the rest.
    ///
    /// The rest is every top-level element besides the model's, and every device that is not a
    /// disk of type `file`/`volume` (with a source), an interface of type `network`/`bridge`,
    /// VNC/SPICE graphics, the pty serial console or a platform device (`isPlatformDevice`). What the model covers in part (boot
    /// order, NVRAM and other `<os>` details, a `<cpu>` with a model or topology, another
    /// application's `<metadata>`, disks and interfaces of other types) is described in
    /// `partlyCovered`.
    /// - Throws: `LibvirtXMLError` when `xml` is not a domain definition.
    public static func uncovered(domainXML xml: String) throws(LibvirtXMLError) -> UncoveredDomainXML {
        let root = try XMLParser.parse(xml)
        guard root.name == "domain" else { throw LibvirtXMLError(message: "expected <domain>, found <\(root.name)>") }
        var out = UncoveredDomainXML()
        for element in root.elements {
            switch element.name {
            case "os":
                let extra = element.elements.filter { !coveredOSElements.contains($0.name) }.map { "<\($0.name)>" }
                if !extra.isEmpty { out.partlyCovered.append("<os>: \(Set(extra).sorted().joined(separator: ", "))") }
            case "cpu", "cputune", "numatune", "memoryBacking":
                let covered = coveredTuningChildren[element.name] ?? []
                let extra = Set(element.elements.map(\.name).filter { !covered.contains($0) }).sorted().map { "<\($0)>" }
                if !extra.isEmpty { out.partlyCovered.append("<\(element.name)>: \(extra.joined(separator: ", "))") }
            case "metadata":
                let others = element.elements.filter { $0 != markerElement(in: root) }
                for other in others { out.partlyCovered.append("<metadata> element <\(other.name)> of another application") }
            case "devices":
                for device in element.elements {
                    switch device.name {
                    case "disk":
                        if parseDisk(device) == nil { out.partlyCovered.append(describe(device)) }
                    case "interface":
                        if parseInterface(device) == nil { out.partlyCovered.append(describe(device)) }
                    case "graphics":
                        if !["vnc", "spice"].contains(device[attribute: "type"] ?? "") { out.partlyCovered.append(describe(device)) }
                    case "serial", "console":
                        if device[attribute: "type"] != "pty" { out.partlyCovered.append(describe(device)) }
                    case _ where isPlatformDevice(device):
                        if let detail = platformDetail(device) { out.partlyCovered.append(detail) }
                    default:
                        out.deviceElements.append(device.serialized())
                    }
                }
            default:
                guard !coveredDomainElements.contains(element.name) else { continue }
                out.domainElements.append(element.serialized())
            }
        }
        return out
    }

    /// A device the platform model reads (an emulated TPM, a virtio rng on a host device, a
    /// watchdog, a video device, the USB tablet, the guest agent channel, a PCI or USB host
    /// device): written as a field of the spec, not carried in the escape hatch.
    static func isPlatformDevice(_ device: XElement) -> Bool {
        switch device.name {
        case "tpm": return parseTPM(device) != nil
        case "rng": return parseRNG(device) != nil
        case "watchdog": return parseWatchdog(device) != nil
        case "video": return parseVideo(device) != nil
        case "hostdev": return parseHostDevice(device) != nil
        case "input": return device[attribute: "type"] == "tablet"
        case "channel": return isGuestAgent(device)
        default: return false
        }
    }

    /// What a platform device has beyond its field (a TPM's state encryption, a second video
    /// head...), in words; `nil` when the field says it all.
    private static func platformDetail(_ device: XElement) -> String? {
        let details: [XElement]
        switch device.name {
        case "tpm": details = device.child("backend")?.elements ?? []
        case "video": details = device.elements.filter { !["model", "address", "alias"].contains($0.name) }
        default: details = []
        }
        guard !details.isEmpty else { return nil }
        return "<\(device.name)> details \(Set(details.map { "<\($0.name)>" }).sorted().joined(separator: ", "))"
    }

    /// A device in words: `<disk type='block' device='disk'>` with its target.
    private static func describe(_ device: XElement) -> String {
        var words = "<\(device.name)"
        for key in ["type", "device"] { if let v = device[attribute: key] { words += " \(key)='\(v)'" } }
        words += ">"
        if let target = device.child("target")?[attribute: "dev"] { words += " \(target)" }
        return words
    }
}
