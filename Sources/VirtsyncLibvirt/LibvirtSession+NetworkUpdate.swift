import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// When `before` and `after` differ only in static DHCP entries (IPv4 or IPv6), DNS host
    /// records and port groups, adds, changes and removes those with `virNetworkUpdate` (live
    /// when the network is active, and persistent) and returns `true`; otherwise changes nothing
    /// and returns `false`.
    /// - Parameter xml: the network's current definition, for the position of each `<ip>`.
    static func updateInPlace(_ network: LibvirtObject, xml: String, from before: NetworkModel, to after: NetworkModel,
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
        a.portgroups = nil
        b.portgroups = nil
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
        try updatePortgroups(network, from: before, to: after, flags: flags, call)
        return true
    }

    /// Removes, changes and adds port groups (section portgroup); a group that becomes the
    /// default is written after every group that stops being it (libvirt allows one default).
    private static func updatePortgroups(_ network: LibvirtObject, from before: NetworkModel, to after: NetworkModel, flags: UInt32,
                                         _ call: LibvirtCall) throws {
        let old = Dictionary((before.portgroups ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary((after.portgroups ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func update(_ command: virNetworkUpdateCommand, _ group: NetworkPortgroup, _ what: String) throws {
            try call.check(virNetworkUpdate(network.pointer, command.rawValue, VIR_NETWORK_SECTION_PORTGROUP.rawValue, -1,
                                            LibvirtXML.portgroupElement(group).serialized(), flags), "\(what) port group \(group.name) of network \(before.name)")
        }
        for name in Set(old.keys).subtracting(new.keys).sorted() {
            if let group = old[name] { try update(VIR_NETWORK_UPDATE_COMMAND_DELETE, group, "remove") }
        }
        let written = new.values.filter { old[$0.name] != $0 }.sorted { ($0.isDefault ? 1 : 0, $0.name) < ($1.isDefault ? 1 : 0, $1.name) }
        for group in written {
            if old[group.name] == nil {
                try update(VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, group, "add")
            } else {
                try update(VIR_NETWORK_UPDATE_COMMAND_MODIFY, group, "change")
            }
        }
    }
}
