import VirtsyncCore

extension SpecWriter {
    static func networkDocument(_ network: ImportedNetwork) -> [String] {
        let model = network.model
        var doc = SpecWriterLines()
        doc.lines = commentLines(network.comments)
        doc.append("apiVersion: virtsync/v1")
        doc.append("kind: Network")
        doc.append("name: \(scalar(model.name))")
        if network.adopt { doc.append("adopt: true") }
        doc.append("mode: \(model.mode.rawValue)")
        if let bridge = model.bridge { doc.append("bridge: \(scalar(bridge))") }
        doc.append("autostart: \(model.autostart)")
        if let ipv4 = model.ipv4 {
            doc.append("ipv4:")
            doc.append("  address: \(scalar("\(ipv4.address)/\(ipv4.prefix)"))")
            let hasRange = ipv4.dhcpStart != nil || ipv4.dhcpEnd != nil
            if hasRange || !ipv4.hosts.isEmpty {
                doc.append("  dhcp:")
                if let start = ipv4.dhcpStart { doc.append("    start: \(scalar(start))") }
                if let end = ipv4.dhcpEnd { doc.append("    end: \(scalar(end))") }
                if !ipv4.hosts.isEmpty {
                    doc.append("    hosts:")
                    for lease in ipv4.hosts {
                        var entry = "mac: \(quoted(lease.mac)), ip: \(scalar(lease.ip))"
                        if let name = lease.name { entry += ", name: \(scalar(name))" }
                        doc.append("      - {\(entry)}")
                    }
                }
            }
        }
        if let ipv6 = model.ipv6 { doc.lines += ipv6Lines(ipv6) }
        if let dns = model.dns { doc.lines += dnsLines(dns) }
        doc.lines += networkLinkLines(model)
        // Last in the document: a block scalar kept with `|+` takes the empty lines after it.
        if let fragment = model.extraXML {
            doc.append("xml:")
            doc.lines += text("network", fragment, indent: 2)
        }
        return doc.lines
    }

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
