import VirtsyncCore

extension DocumentDecoder {
    static let ipv6Keys = KeySet(["address", "dhcp"])
    static let dhcpv6Keys = KeySet(["ranges", "hosts"])
    static let rangeKeys = KeySet(["start", "end"])
    // `mac` is read only to say why it is refused.
    static let leasev6Keys = KeySet(["id", "name", "ip", "mac"])

    /// `ipv6: {address, dhcp: {ranges, hosts}}`: every range and host inside the prefix, ranges
    /// in order and not overlapping, hosts matched by DUID or name, addresses and DUIDs unique.
    func decodeIPv6(_ map: MapReader) -> IPv6Spec? {
        guard let text = map.string("address", required: true) else { return nil }
        let parts = text.value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])), let prefix = Int(parts[1]) else {
            reporter.error(text.location, map.keyPath("address"),
                           "\(text.value.quotedForMessage) is not an IPv6 address with a prefix, e.g. fd00:10:1::1/64")
            return nil
        }
        guard (1...127).contains(prefix) else {
            reporter.error(text.location, map.keyPath("address"), "prefix /\(prefix) is out of range; expected 1...127")
            return nil
        }
        var ipv6 = IPv6Spec(addressPath: map.keyPath("address"), addressLocation: text.location, address: address, prefix: prefix, ranges: [], hosts: [])
        guard let dhcp = map.map("dhcp", keys: Self.dhcpv6Keys) else { return ipv6 }
        let subnet = "\(address.masked(prefix))/\(prefix)"

        /// An address of the subnet, or nil after reporting why not.
        func readAddress(_ map: MapReader, _ key: String) -> (text: Located<String>, value: IPv6Address)? {
            guard let text = map.string(key, required: true) else { return nil }
            guard let value = IPv6Address(text.value) else {
                reporter.error(text.location, map.keyPath(key), "\(text.value.quotedForMessage) is not an IPv6 address")
                return nil
            }
            guard value.isIn(address, prefix: prefix) else {
                reporter.error(text.location, map.keyPath(key), "\(text.value) is outside the network's prefix \(subnet)")
                return nil
            }
            return (text, value)
        }

        var ranges: [(start: IPv6Address, end: IPv6Address, text: String, location: SourceLocation)] = []
        for (index, node) in (dhcp.list("ranges") ?? []).enumerated() {
            let path = "\(dhcp.keyPath("ranges"))[\(index)]"
            guard let range = MapReader(node, file: file, path: path, keys: Self.rangeKeys, reporter: reporter) else { continue }
            guard let start = readAddress(range, "start"), let end = readAddress(range, "end") else { continue }
            let label = "\(start.text.value)-\(end.text.value)"
            if start.value > end.value {
                reporter.error(end.text.location, range.keyPath("end"), "DHCPv6 range end \(end.text.value) is before its start \(start.text.value)")
                continue
            }
            if let other = ranges.first(where: { start.value <= $0.end && $0.start <= end.value }) {
                reporter.error(start.text.location, range.keyPath("start"),
                               "DHCPv6 range \(label) overlaps the range \(other.text) at \(other.location)")
                continue
            }
            if (start.value...end.value).contains(address) {
                reporter.warning(start.text.location, range.keyPath("start"), "DHCPv6 range \(label) includes the network's own address")
            }
            ranges.append((start.value, end.value, label, start.text.location))
            ipv6.ranges.append(DHCPv6RangeSpec(start: start.text, end: end.text))
        }

        var ips: [IPv6Address: SourceLocation] = [:]
        var ids: [String: SourceLocation] = [:]
        for (index, node) in (dhcp.list("hosts") ?? []).enumerated() {
            let path = "\(dhcp.keyPath("hosts"))[\(index)]"
            guard let lease = MapReader(node, file: file, path: path, keys: Self.leasev6Keys, reporter: reporter) else { continue }
            var valid = true
            if lease.has("mac") {
                reporter.error(lease.keyLocation("mac"), lease.keyPath("mac"),
                               "an IPv6 static host has no MAC (libvirt matches DHCPv6 clients by DUID or host name): use 'id' or 'name'")
                valid = false
            }
            let id = lease.string("id")
            if let id {
                if !Self.isDUID(id.value) {
                    reporter.error(id.location, lease.keyPath("id"),
                                   "\(id.value.quotedForMessage) is not a DUID: colon-separated hex bytes, e.g. 0:3:0:1:52:54:0:12:34:56")
                    valid = false
                } else if let first = ids[id.value.lowercased()] {
                    reporter.error(id.location, lease.keyPath("id"), "DUID \(id.value) has another lease at \(first)")
                    valid = false
                } else {
                    ids[id.value.lowercased()] = id.location
                }
            }
            let name = lease.string("name")
            if let name, let problem = Formats.hostnameProblem(name.value) {
                reporter.error(name.location, lease.keyPath("name"), problem)
                valid = false
            }
            if !lease.has("id") && !lease.has("name") && !lease.has("mac") {
                reporter.error(lease.location, lease.keyPath("id"), "an IPv6 static host needs 'id' (the client's DUID) or 'name'")
                valid = false
            }
            guard let ip = readAddress(lease, "ip") else { continue }
            if let first = ips[ip.value] {
                reporter.error(ip.text.location, lease.keyPath("ip"), "address \(ip.text.value) has another lease at \(first)")
                continue
            }
            ips[ip.value] = ip.text.location
            if valid { ipv6.hosts.append(DHCPv6HostSpec(id: id, name: name, ip: ip.text)) }
        }
        return ipv6
    }

    /// Colon-separated bytes of one or two hex digits, at least two of them.
    static func isDUID(_ text: String) -> Bool {
        let bytes = text.split(separator: ":", omittingEmptySubsequences: false)
        return bytes.count >= 2 && bytes.count <= 130 && bytes.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy(\.isHexDigit) }
    }
}
