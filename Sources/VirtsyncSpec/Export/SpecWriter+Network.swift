import VirtsyncCore

extension SpecWriter {
    /// The `ipv6:` block of a network document.
    static func ipv6Lines(_ ipv6: IPv6Config) -> [String] {
        var lines = ["ipv6:", "  address: \(scalar("\(ipv6.address)/\(ipv6.prefix)"))"]
        guard !ipv6.dhcpRanges.isEmpty || !ipv6.hosts.isEmpty else { return lines }
        lines.append("  dhcp:")
        if !ipv6.dhcpRanges.isEmpty {
            lines.append("    ranges:")
            for range in ipv6.dhcpRanges { lines.append("      - {start: \(scalar(range.start)), end: \(scalar(range.end))}") }
        }
        if !ipv6.hosts.isEmpty {
            lines.append("    hosts:")
            for host in ipv6.hosts {
                var entry: [String] = []
                if let id = host.id { entry.append("id: \(quoted(id))") }
                if let name = host.name { entry.append("name: \(scalar(name))") }
                entry.append("ip: \(scalar(host.ip))")
                lines.append("      - {\(entry.joined(separator: ", "))}")
            }
        }
        return lines
    }

    /// The `dns:` block of a network document.
    static func dnsLines(_ dns: NetworkDNS) -> [String] {
        var lines = ["dns:"]
        if let domain = dns.domain { lines.append("  domain: \(scalar(domain))") }
        if let local = dns.localOnly, dns.domain != nil { lines.append("  localOnly: \(local)") }
        if let enable = dns.enable { lines.append("  enable: \(enable)") }
        if let plain = dns.forwardPlainNames { lines.append("  forwardPlainNames: \(plain)") }
        if let hosts = dns.hosts, !hosts.isEmpty {
            lines.append("  hosts:")
            for host in hosts { lines.append("    - {ip: \(scalar(host.ip)), names: [\(host.names.map(scalar).joined(separator: ", "))]}") }
        }
        if let forwarders = dns.forwarders, !forwarders.isEmpty {
            lines.append("  forwarders:")
            for forwarder in forwarders {
                let parts = [forwarder.domain.map { "domain: \(scalar($0))" }, forwarder.addr.map { "addr: \(scalar($0))" }].compactMap { $0 }
                lines.append("    - {\(parts.joined(separator: ", "))}")
            }
        }
        return lines.count == 1 ? [] : lines
    }
}

extension SpecWriter {
    /// The `mtu`, `uplink`, `bandwidth` and `portgroups` lines of a network document.
    static func networkLinkLines(_ model: NetworkModel) -> [String] {
        var lines: [String] = []
        if let mtu = model.mtu { lines.append("mtu: \(mtu)") }
        if let uplink = model.uplink, NetworkModel.takesUplink(model.mode) { lines.append("uplink: \(scalar(uplink))") }
        if let bandwidth = model.bandwidth, !bandwidth.isEmpty { lines.append("bandwidth: \(bandwidthFlow(bandwidth))") }
        if let groups = model.portgroups, !groups.isEmpty {
            lines.append("portgroups:")
            for group in groups {
                var parts = ["name: \(scalar(group.name))"]
                if group.isDefault { parts.append("default: true") }
                if let vlan = group.vlan, let flow = vlanFlow(vlan) { parts.append("vlan: \(flow)") }
                if let bandwidth = group.bandwidth, !bandwidth.isEmpty { parts.append("bandwidth: \(bandwidthFlow(bandwidth))") }
                lines.append("  - {\(parts.joined(separator: ", "))}")
            }
        }
        return lines
    }
}
