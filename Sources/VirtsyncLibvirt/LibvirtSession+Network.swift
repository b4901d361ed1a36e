import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Network steps.
    ///
    /// - `create`, `update`, `replace`: a new network is defined, set to autostart as the model
    ///   says and started. An existing one whose definition differs from the model (autostart
    ///   aside; a bridge name the model leaves open is libvirt's) is destroyed when active,
    ///   redefined under its UUID and started again: libvirt applies a network's definition only
    ///   at start, so any change restarts it. When only autostart differs, only autostart is set.
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
            let hatchHolds = !hatchChanged && (try? XMLParser.parse(xml)).map {
                LibvirtXML.hatchHolds(Hatch.leaves(model.extraXML, in: .network), in: $0, document: .network)
            } ?? false
            // Raw XML is never parsed back into the model; `hatchHolds` compares it.
            var seen = current.model
            seen.extraXML = model.extraXML
            seen.dns = seen.dns?.definitionForm
            if wanted != seen || !hatchHolds {
                if hatchHolds, try updateStaticHosts(existing, xml: xml, from: seen, to: wanted, operation, call) {
                    // Only static DHCP entries changed: applied in place, guests stay plugged in.
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

    /// When `before` and `after` differ only in static DHCP entries (IPv4 or IPv6), adds and
    /// removes those entries with `virNetworkUpdate` (live when the network is active, and
    /// persistent) and returns `true`; otherwise changes nothing and returns `false`.
    /// - Parameter xml: the network's current definition, for the position of each `<ip>`.
    private static func updateStaticHosts(_ network: LibvirtObject, xml: String, from before: NetworkModel, to after: NetworkModel,
                                          _ operation: String, _ call: LibvirtCall) throws -> Bool {
        var a = before, b = after
        a.ipv4?.hosts = []
        b.ipv4?.hosts = []
        a.ipv6?.hosts = []
        b.ipv6?.hosts = []
        func withoutHosts(_ dns: NetworkDNS?) -> NetworkDNS? {
            var dns = dns
            dns?.hosts = nil
            return dns?.definitionForm
        }
        a.dns = withoutHosts(a.dns)
        b.dns = withoutHosts(b.dns)
        guard a == b else { return false }
        let ipv6Changed = before.ipv6.map { old in after.ipv6.map { $0.hosts != old.hosts } ?? false } ?? false
        let ipv6Parent = LibvirtXML.ipv6Index(inNetwork: xml)
        if ipv6Changed && ipv6Parent == nil { return false }
        let active = try call.isActive(network: network, operation)
        let flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG.rawValue | (active ? VIR_NETWORK_UPDATE_AFFECT_LIVE.rawValue : 0)
        func update(_ command: virNetworkUpdateCommand, _ parent: Int, _ host: String, _ what: String) throws {
            try call.check(virNetworkUpdate(network.pointer, command.rawValue, VIR_NETWORK_SECTION_IP_DHCP_HOST.rawValue,
                                            Int32(parent), host, flags), "\(what) of network \(before.name)")
        }
        if let old = before.ipv4, let new = after.ipv4, old.hosts != new.hosts {
            // The index of the IPv4 <ip>: with -1 libvirt takes the first <ip> with DHCP, which may be the IPv6 one.
            let parent = LibvirtXML.ipv4Index(inNetwork: xml) ?? -1
            func text(_ h: DHCPHost) -> String {
                "<host mac='\(XMLEscape.escape(h.mac))'\(h.name.map { " name='\(XMLEscape.escape($0))'" } ?? "") ip='\(XMLEscape.escape(h.ip))'/>"
            }
            for h in Set(old.hosts).subtracting(new.hosts).sorted(by: { $0.mac < $1.mac }) {
                try update(VIR_NETWORK_UPDATE_COMMAND_DELETE, parent, text(h), "remove DHCP host \(h.mac)")
            }
            for h in Set(new.hosts).subtracting(old.hosts).sorted(by: { $0.mac < $1.mac }) {
                try update(VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, parent, text(h), "add DHCP host \(h.mac)")
            }
        }
        if let old = before.ipv6, let new = after.ipv6, let parent = ipv6Parent, old.hosts != new.hosts {
            func text(_ h: DHCPv6Host) -> String {
                "<host" + LibvirtXML.dhcpv6HostAttributes(h).map { " \($0.0)='\(XMLEscape.escape($0.1))'" }.joined() + "/>"
            }
            for h in Set(old.hosts).subtracting(new.hosts).sorted(by: { $0.ip < $1.ip }) {
                try update(VIR_NETWORK_UPDATE_COMMAND_DELETE, parent, text(h), "remove DHCPv6 host \(h.ip)")
            }
            for h in Set(new.hosts).subtracting(old.hosts).sorted(by: { $0.ip < $1.ip }) {
                try update(VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, parent, text(h), "add DHCPv6 host \(h.ip)")
            }
        }
        let oldRecords = Set(before.dns?.hosts ?? []), newRecords = Set(after.dns?.hosts ?? [])
        // libvirt finds a record by its address or any of its names: removals first.
        for h in oldRecords.subtracting(newRecords).sorted(by: { $0.ip < $1.ip }) {
            try call.check(virNetworkUpdate(network.pointer, VIR_NETWORK_UPDATE_COMMAND_DELETE.rawValue, VIR_NETWORK_SECTION_DNS_HOST.rawValue,
                                            -1, LibvirtXML.dnsHostElement(h).serialized(), flags), "remove DNS host \(h.ip) of network \(before.name)")
        }
        for h in newRecords.subtracting(oldRecords).sorted(by: { $0.ip < $1.ip }) {
            try call.check(virNetworkUpdate(network.pointer, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST.rawValue, VIR_NETWORK_SECTION_DNS_HOST.rawValue,
                                            -1, LibvirtXML.dnsHostElement(h).serialized(), flags), "add DNS host \(h.ip) to network \(before.name)")
        }
        return true
    }
}
