import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// `<ip family='ipv6'>` with its DHCPv6 ranges and static hosts (`id`, `name`, `ip`; IPv6
    /// hosts have no MAC in libvirt).
    static func ipv6Element(_ ip: IPv6Config) -> XElement {
        var element = XElement("ip", [("family", "ipv6"), ("address", ip.address), ("prefix", String(ip.prefix))])
        if !ip.dhcpRanges.isEmpty || !ip.hosts.isEmpty {
            var dhcp = XElement("dhcp")
            for range in ip.dhcpRanges { dhcp.append(XElement("range", [("start", range.start), ("end", range.end)])) }
            for host in ip.hosts { dhcp.append(XElement("host", dhcpv6HostAttributes(host))) }
            element.append(dhcp)
        }
        return element
    }

    /// The attributes of a DHCPv6 `<host>`, in libvirt's order.
    static func dhcpv6HostAttributes(_ host: DHCPv6Host) -> [(String, String)] {
        var attributes: [(String, String)] = []
        if let id = host.id { attributes.append(("id", id)) }
        if let name = host.name { attributes.append(("name", name)) }
        attributes.append(("ip", host.ip))
        return attributes
    }

    /// The first `<ip family='ipv6'>` of a network, addresses in canonical form; the prefix is
    /// libvirt's default (64) when absent.
    static func parseIPv6(_ root: XElement) -> IPv6Config? {
        guard let ip = root.children(named: "ip").first(where: { $0[attribute: "family"] == "ipv6" }),
              let address = ip[attribute: "address"] else { return nil }
        let prefix = ip[attribute: "prefix"].flatMap { Int($0) } ?? 64
        let dhcp = ip.child("dhcp")
        let ranges: [DHCPRange] = (dhcp?.children(named: "range") ?? []).compactMap { range in
            guard let start = range[attribute: "start"], let end = range[attribute: "end"] else { return nil }
            return DHCPRange(start: start, end: end)
        }
        let hosts: [DHCPv6Host] = (dhcp?.children(named: "host") ?? []).compactMap { host in
            guard let address = host[attribute: "ip"] else { return nil }
            return DHCPv6Host(id: host[attribute: "id"], name: host[attribute: "name"], ip: address)
        }
        return IPv6Config(address: address, prefix: prefix, dhcpRanges: ranges, hosts: hosts)
    }

    /// The position of the network's first IPv6 `<ip>` among all its `<ip>` elements: the
    /// parent index `virNetworkUpdate` takes (with -1 libvirt picks the first `<ip>` with DHCP,
    /// which may be the IPv4 one).
    static func ipv6Index(inNetwork xml: String) -> Int? {
        guard let root = try? XMLParser.parse(xml) else { return nil }
        return root.children(named: "ip").firstIndex { $0[attribute: "family"] == "ipv6" }
    }

    /// The position of the network's first IPv4 `<ip>` among all its `<ip>` elements.
    static func ipv4Index(inNetwork xml: String) -> Int? {
        guard let root = try? XMLParser.parse(xml) else { return nil }
        return root.children(named: "ip").firstIndex { ($0[attribute: "family"] ?? "ipv4") == "ipv4" }
    }
}
