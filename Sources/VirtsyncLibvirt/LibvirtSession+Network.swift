import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Network steps.
    ///
    /// - `create`, `update`, `replace`: a new network is defined, set to autostart as the model
    ///   says and started. An existing one whose definition differs from the model (autostart
    ///   aside; a bridge name and the parts the model leaves open are libvirt's) is changed in
    ///   place with `virNetworkUpdate` when only static DHCP hosts, DNS host records and port
    ///   groups differ (`updateInPlace`); otherwise it is destroyed when active, redefined under
    ///   its UUID and started again: libvirt applies the rest of a network's definition only at
    ///   start. When only autostart differs, only autostart is set.
    /// - `start`, `stop`, `restart`: start, destroy, both.
    /// - `delete`: destroy when active, undefine; a missing network is a success.
    func applyNetwork(_ step: PlanStep) async throws {
        let name = step.resource.name
        let operation = "\(step.action.rawValue) network \(name)"
        switch step.action {
        case .create, .update, .replace:
            guard case .network(let model) = step.payload else { throw missingPayload(step) }
            // Raw XML the plan removes is not visible in the spec's model: the plan's change says so.
            let hatchChanged = step.changes.contains { $0.field.hasPrefix("xml.") }
            try await run(operation) { call in try LibvirtSession.define(model, hatchChanged: hatchChanged, operation, call) }
        case .delete:
            try await run(operation) { call in
                guard let network = try call.network(name) else { return }
                if try call.isActive(network: network, operation) {
                    try call.check(virNetworkDestroy(network.pointer), operation)
                }
                try call.check(virNetworkUndefine(network.pointer), operation)
            }
        case .start, .stop, .restart:
            try await run(operation) { call in
                guard let network = try call.network(name) else {
                    throw HypervisorError(code: .notFound, message: "no network \(name)", operation: operation)
                }
                let active = try call.isActive(network: network, operation)
                if active && step.action != .start { try call.check(virNetworkDestroy(network.pointer), operation) }
                if step.action != .stop && (!active || step.action == .restart) {
                    try call.check(virNetworkCreate(network.pointer), operation)
                }
            }
        case .migrate, .adopt, .suspend, .resume:
            throw unsupported(step)
        }
    }

    private static func define(_ model: NetworkModel, hatchChanged: Bool, _ operation: String, _ call: LibvirtCall) throws {
        var network = try call.network(model.name)
        if let existing = network {
            let xml = try call.networkXML(existing, operation)
            let current = try parsing("network \(model.name)") { () throws(LibvirtXMLError) in try LibvirtXML.parseNetwork(xml) }
            var wanted = model
            wanted.autostart = current.model.autostart
            if wanted.bridge == nil { wanted.bridge = current.model.bridge }
            // Parts the spec leaves out are libvirt's: a redefinition keeps them.
            if wanted.ipv6 == nil { wanted.ipv6 = current.model.ipv6 }
            wanted.dns = (wanted.dns.map { $0.filled(from: current.model.dns) } ?? current.model.dns)?.definitionForm
            wanted = wanted.keepingOpenParts(of: current.model)
            let hatchHolds = !hatchChanged && (try? XMLParser.parse(xml)).map {
                LibvirtXML.hatchHolds(Hatch.leaves(model.extraXML, in: .network), in: $0, document: .network)
            } ?? false
            // Raw XML is never parsed back into the model; `hatchHolds` compares it.
            var seen = current.model
            seen.extraXML = model.extraXML
            seen.dns = seen.dns?.definitionForm
            seen = seen.definitionForm
            if wanted != seen || !hatchHolds {
                if hatchHolds, try updateInPlace(existing, xml: xml, from: seen, to: wanted, operation, call) {
                    // Only static hosts and port groups changed: applied in place, guests stay plugged in.
                } else {
                    if try call.isActive(network: existing, operation) {
                        try call.check(virNetworkDestroy(existing.pointer), operation)
                    }
                    // The bridge libvirt chose is kept, so guests come back on the same device.
                    var definition = wanted
                    definition.autostart = model.autostart
                    guard let pointer = virNetworkDefineXML(call.conn, LibvirtXML.network(definition, uuid: current.uuid)) else {
                        throw call.error(operation)
                    }
                    network = LibvirtObject(pointer, .network)
                }
            }
        } else {
            guard let pointer = virNetworkDefineXML(call.conn, LibvirtXML.network(model)) else { throw call.error(operation) }
            network = LibvirtObject(pointer, .network)
        }
        guard let network else { return }
        try call.check(virNetworkSetAutostart(network.pointer, model.autostart ? 1 : 0), "set autostart of network \(model.name)")
        if try !call.isActive(network: network, operation) {
            try call.check(virNetworkCreate(network.pointer), "start network \(model.name)")
        }
    }
}
