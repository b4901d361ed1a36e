import VirtsyncCore

extension DocumentDecoder {
    static let dnsKeys = KeySet(["domain", "localOnly", "hosts", "forwarders", "enable", "forwardPlainNames"])
    static let dnsHostKeys = KeySet(["ip", "names"])
    static let forwarderKeys = KeySet(["addr", "domain"])

    /// `dns: {domain, localOnly, hosts: [{ip, names}], forwarders: [{addr, domain}], enable,
    /// forwardPlainNames}`; each part left out stays libvirt's.
    func decodeDNS(_ map: MapReader) -> NetworkDNS {
        var dns = NetworkDNS()
        if let domain = map.string("domain") {
            if let problem = Formats.hostnameProblem(domain.value) {
                reporter.error(domain.location, map.keyPath("domain"), problem)
            } else {
                dns.domain = domain.value
            }
        }
        dns.localOnly = map.bool("localOnly")
        if dns.localOnly != nil && !map.has("domain") {
            reporter.error(map.keyLocation("localOnly"), map.keyPath("localOnly"), "'localOnly' needs 'domain': it makes the domain's names local only")
        }
        dns.enable = map.bool("enable")
        dns.forwardPlainNames = map.bool("forwardPlainNames")
        if dns.enable == false, let key = ["hosts", "forwarders", "domain", "forwardPlainNames"].first(where: map.has) {
            reporter.error(map.keyLocation(key), map.keyPath(key), "'\(key)' needs DNS: the network serves none with 'enable: false'")
        }

        if let list = map.list("hosts") {
            var hosts: [DNSHost] = []
            var ips: [String: SourceLocation] = [:]
            var names: [String: SourceLocation] = [:]
            for (index, node) in list.enumerated() {
                let path = "\(map.keyPath("hosts"))[\(index)]"
                guard let entry = MapReader(node, file: file, path: path, keys: Self.dnsHostKeys, reporter: reporter) else { continue }
                var valid = true
                var ip: String?
                if let text = entry.string("ip", required: true) {
                    if let canonical = Self.ipAddress(text.value) {
                        if let first = ips[canonical] {
                            reporter.error(text.location, entry.keyPath("ip"), "address \(text.value) has another DNS host record at \(first)")
                            valid = false
                        } else {
                            ips[canonical] = text.location
                            ip = canonical
                        }
                    } else {
                        reporter.error(text.location, entry.keyPath("ip"), "\(text.value.quotedForMessage) is not an IPv4 or IPv6 address")
                        valid = false
                    }
                }
                let list = entry.stringList("names") ?? []
                if entry.has("names") && list.isEmpty || !entry.has("names") {
                    reporter.error(entry.has("names") ? entry.valueLocation("names") : entry.location, entry.keyPath("names"),
                                   "a DNS host record needs at least one name")
                    valid = false
                }
                for name in list {
                    if let problem = Formats.hostnameProblem(name.value) {
                        reporter.error(name.location, entry.keyPath("names"), problem)
                        valid = false
                    } else if let first = names[name.value.lowercased()] {
                        // libvirt's live update finds a record by any of its names: one name, one record.
                        reporter.error(name.location, entry.keyPath("names"), "name \(name.value) is in another DNS host record at \(first)")
                        valid = false
                    } else {
                        names[name.value.lowercased()] = name.location
                    }
                }
                if valid, let ip { hosts.append(DNSHost(ip: ip, names: list.map(\.value))) }
            }
            dns.hosts = hosts
        }

        if let list = map.list("forwarders") {
            var forwarders: [DNSForwarder] = []
            for (index, node) in list.enumerated() {
                let path = "\(map.keyPath("forwarders"))[\(index)]"
                guard let entry = MapReader(node, file: file, path: path, keys: Self.forwarderKeys, reporter: reporter) else { continue }
                var forwarder = DNSForwarder()
                var valid = true
                if let addr = entry.string("addr") {
                    if let canonical = Self.ipAddress(addr.value) {
                        forwarder.addr = canonical
                    } else {
                        reporter.error(addr.location, entry.keyPath("addr"), "\(addr.value.quotedForMessage) is not an IPv4 or IPv6 address")
                        valid = false
                    }
                }
                if let domain = entry.string("domain") {
                    if let problem = Formats.hostnameProblem(domain.value) {
                        reporter.error(domain.location, entry.keyPath("domain"), problem)
                        valid = false
                    } else {
                        forwarder.domain = domain.value
                    }
                }
                if !entry.has("addr") && !entry.has("domain") {
                    reporter.error(entry.location, entry.keyPath("addr"), "a forwarder needs 'addr', 'domain' or both")
                    valid = false
                }
                if valid { forwarders.append(forwarder) }
            }
            dns.forwarders = forwarders
        }
        return dns
    }

    /// An IPv4 address as written, or an IPv6 address in canonical form.
    static func ipAddress(_ text: String) -> String? {
        if Formats.parseIPv4(text) != nil { return text }
        return IPv6Address(text)?.description
    }
}
