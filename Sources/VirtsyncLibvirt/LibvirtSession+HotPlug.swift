import CLibvirt
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML

/// Hot-plug: a disk or NIC the update just wrote into the definition goes into the running guest
/// too, as the definition has it (its PCI address and generated MAC included, so the guest sees
/// the same device after its next boot).
extension LibvirtSession {
    static func hotPlug(_ live: LiveOperation, domain: LibvirtObject, name: String, flags: UInt32,
                        _ operation: String, _ call: LibvirtCall) throws {
        let persistentXML = try call.domainXML(domain, inactive: true, operation)
        let runningXML = try call.domainXML(domain, inactive: false, operation)
        let persistent = try parsing("domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(persistentXML) }
        let running = try parsing("live domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(runningXML) }
        let device: XElement
        switch live {
        case .attachDisk(let target):
            func find(_ root: XElement) -> XElement? {
                root.child("devices")?.children(named: "disk").first { $0.child("target")?[attribute: "dev"] == target }
            }
            // Attached already (an earlier pass that failed after the attach): nothing to do.
            guard find(running) == nil else { return }
            guard let disk = find(persistent) else {
                throw HypervisorError(code: .notFound, message: "the definition has no disk \(target)", operation: operation)
            }
            device = disk
        case .attachInterface(let mac, let index):
            let interfaces = (persistent.child("devices")?.children(named: "interface") ?? []).filter { LibvirtXML.parseInterface($0) != nil }
            let found = mac.map { mac in interfaces.first { $0.child("mac")?[attribute: "address"]?.lowercased() == mac.lowercased() } }
                ?? (index < interfaces.count ? interfaces[index] : nil)
            guard let interface = found, let address = interface.child("mac")?[attribute: "address"]?.lowercased() else {
                throw HypervisorError(code: .notFound, message: "the definition has no such interface", operation: operation)
            }
            let attached = running.child("devices")?.children(named: "interface").contains {
                $0.child("mac")?[attribute: "address"]?.lowercased() == address
            } ?? false
            guard !attached else { return }
            device = interface
        default:
            return
        }
        do {
            try call.check(virDomainAttachDeviceFlags(domain.pointer, device.serialized(), flags), operation)
        } catch var error as HypervisorError {
            error.message += " (the definition has the device: the guest gets it at its next boot)"
            throw error
        }
    }
}
