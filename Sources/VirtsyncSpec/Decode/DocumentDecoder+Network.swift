import VirtsyncCore

extension DocumentDecoder {
    static let networkKeys = KeySet(["apiVersion", "kind", "name", "hosts", "mode", "bridge", "autostart", "ipv4", "adopt", "xml",
                                          "ipv6", "dns", "mtu", "uplink", "bandwidth", "portgroups"])
    static let ipv4Keys = KeySet(["address", "dhcp"])
    static let dhcpKeys = KeySet(["start", "end", "hosts"])
    static let leaseKeys = KeySet(["mac", "ip", "name"])

    func decodeNetwork(_ map: MapReader, header: DocumentHeader) -> NetworkSpec {
        var header = header
        header.name = readName(map)
        var network = NetworkSpec(header: header, hosts: readHostList(map), hostsLocation: map.valueLocation("hosts"))
        network.mode = map.choice("mode", NetworkMode.allCases)?.value
        network.autostart = map.bool("autostart")
        network.adopt = map.bool("adopt") ?? false
        network.xml = decodeHatch(map, key: "network", as: .network)
        if let bridge = map.string("bridge") {
            if let problem = Formats.bridgeProblem(bridge.value) {
                reporter.error(bridge.location, map.keyPath("bridge"), problem)
            } else {
                network.bridge = bridge
            }
        }
        let mode = network.mode ?? .nat
        if mode == .bridge && !map.has("bridge") {
            reporter.error(map.keyLocation("mode"), map.keyPath("bridge"),
                           "missing required key 'bridge': bridge mode attaches guests to an existing host bridge")
        }
        if (mode == .nat || mode == .routed || mode == .open) && !map.has("ipv4") {
            // libvirt refuses the definition ("nat forwarding requested, but no IP address
            // provided"): found by the validate-implies-apply property test.
            reporter.error(map.has("mode") ? map.keyLocation("mode") : map.location, map.keyPath("ipv4"),
                           "missing required key 'ipv4': \(mode == .open ? "an" : "a") \(mode.rawValue) network forwards for its subnet, so it needs one (or use mode: isolated)")
        }
        if let ipv4 = map.map("ipv4", keys: Self.ipv4Keys) {
            if mode == .bridge {
                reporter.error(map.keyLocation("ipv4"), map.keyPath("ipv4"),
                               "'ipv4' is not allowed in bridge mode: the bridge's own network assigns addresses")
            } else {
                network.ipv4 = decodeIPv4(ipv4)
            }
        }
        if let ipv6 = map.map("ipv6", keys: Self.ipv6Keys) {
            if mode == .bridge {
                reporter.error(map.keyLocation("ipv6"), map.keyPath("ipv6"),
                               "'ipv6' is not allowed in bridge mode: the bridge's own network assigns addresses")
            } else {
                network.ipv6 = decodeIPv6(ipv6)
            }
        }
        if let dns = map.map("dns", keys: Self.dnsKeys) {
            if mode == .bridge {
                reporter.error(map.keyLocation("dns"), map.keyPath("dns"),
                               "'dns' is not allowed in bridge mode: libvirt serves no DNS on a host bridge")
            } else {
                network.dns = decodeDNS(dns)
            }
        }
        decodeNetworkLink(map, mode: mode, into: &network)
        return network
    }

    private func decodeIPv4(_ map: MapReader) -> IPv4Spec {
        var ipv4 = IPv4Spec(path: map.path, location: map.location, dhcpHosts: [])
        if let address = map.string("address", required: true) {
            ipv4.address = address
            let parts = address.value.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, let host = Formats.parseIPv4(String(parts[0])), let prefix = Int(parts[1]) {
                if !(1...30).contains(prefix) {
                    reporter.error(address.location, map.keyPath("address"), "prefix /\(prefix) is out of range; expected 1...30")
                } else {
                    let mask = UInt32.max << (32 - prefix)
                    if host & ~mask == 0 || host & ~mask == ~mask {
                        reporter.error(address.location, map.keyPath("address"),
                                       "\(parts[0]) is the network or broadcast address of /\(prefix); use a host address")
                    } else {
                        ipv4.hostAddress = host
                        ipv4.prefix = prefix
                    }
                }
            } else {
                reporter.error(address.location, map.keyPath("address"),
                               "\(address.value.quotedForMessage) is not an IPv4 address with a prefix, e.g. 192.168.100.1/24")
            }
        }
        guard let dhcp = map.map("dhcp", keys: Self.dhcpKeys) else { return ipv4 }
        let subnet = ipv4.hostAddress.flatMap { host in ipv4.prefix.map { Subnet(host: host, prefix: $0) } }
        let start = readAddress(dhcp, "start", in: subnet)
        let end = readAddress(dhcp, "end", in: subnet)
        if dhcp.has("start") != dhcp.has("end") {
            let missing = dhcp.has("start") ? "end" : "start"
            reporter.error(dhcp.location, dhcp.keyPath(missing), "a DHCP range needs both 'start' and 'end'")
        }
        if let start, let end {
            if start.number > end.number {
                reporter.error(end.text.location, dhcp.keyPath("end"),
                               "DHCP range end \(end.text.value) is before its start \(start.text.value)")
            } else if let host = ipv4.hostAddress, (start.number...end.number).contains(host) {
                reporter.warning(start.text.location, dhcp.keyPath("start"),
                                 "DHCP range \(start.text.value)-\(end.text.value) includes the network's own address")
            }
        }
        ipv4.dhcpStart = start?.text
        ipv4.dhcpEnd = end?.text
        var macs: [String: SourceLocation] = [:]
        var ips: [UInt32: SourceLocation] = [:]
        for (index, node) in (dhcp.list("hosts") ?? []).enumerated() {
            let path = "\(dhcp.keyPath("hosts"))[\(index)]"
            guard let lease = MapReader(node, file: file, path: path, keys: Self.leaseKeys, reporter: reporter) else { continue }
            var spec = DHCPHostSpec(path: path)
            if let mac = lease.string("mac", required: true) {
                if let normalized = Formats.normalizedMAC(mac.value) {
                    spec.mac = Located(normalized, mac.location)
                    if let first = macs[normalized] {
                        reporter.error(mac.location, lease.keyPath("mac"), "MAC \(normalized) has another lease at \(first)")
                    } else {
                        macs[normalized] = mac.location
                    }
                } else {
                    reporter.error(mac.location, lease.keyPath("mac"), Self.macMessage(mac.value))
                }
            }
            if let ip = readAddress(lease, "ip", in: subnet, required: true) {
                spec.ip = ip.text
                if let first = ips[ip.number] {
                    reporter.error(ip.text.location, lease.keyPath("ip"), "address \(ip.text.value) has another lease at \(first)")
                } else {
                    ips[ip.number] = ip.text.location
                }
            }
            if let name = lease.string("name") {
                if let problem = Formats.hostnameProblem(name.value) {
                    reporter.error(name.location, lease.keyPath("name"), problem)
                } else {
                    spec.name = name
                }
            }
            ipv4.dhcpHosts.append(spec)
        }
        return ipv4
    }

    /// An IPv4 address that must be a host address of `subnet` (when the subnet is known).
    private func readAddress(_ map: MapReader, _ key: String, in subnet: Subnet?,
                             required: Bool = false) -> (text: Located<String>, number: UInt32)? {
        guard let text = map.string(key, required: required) else { return nil }
        guard let number = Formats.parseIPv4(text.value) else {
            reporter.error(text.location, map.keyPath(key), "\(text.value.quotedForMessage) is not an IPv4 address")
            return nil
        }
        if let subnet, !subnet.containsHost(number) {
            reporter.error(text.location, map.keyPath(key),
                           "\(text.value) is outside the network's subnet \(subnet) (or is its network or broadcast address)")
            return nil
        }
        return (text, number)
    }

    /// The message for a MAC that `Formats.normalizedMAC` refused.
    static func macMessage(_ mac: String) -> String {
        "\(mac.quotedForMessage) is not a unicast MAC address such as 52:54:00:12:34:56"
    }
}

/// An IPv4 subnet, for range checks.
struct Subnet: CustomStringConvertible {
    let network: UInt32
    let prefix: Int

    init(host: UInt32, prefix: Int) {
        self.prefix = prefix
        network = host & (UInt32.max << (32 - prefix))
    }

    private var broadcast: UInt32 { network | ~(UInt32.max << (32 - prefix)) }

    /// Inside the subnet and neither its network nor its broadcast address.
    func containsHost(_ address: UInt32) -> Bool { address > network && address < broadcast }

    var description: String { "\(Formats.formatIPv4(network))/\(prefix)" }
}
