/// A DHCP address range, first and last address included.
public struct DHCPRange: Hashable, Codable, Sendable {
    public var start: String
    public var end: String

    public init(start: String, end: String) {
        self.start = start
        self.end = end
    }
}

/// A static DHCPv6 entry. IPv6 has no MAC in DHCP: a client is matched by its DUID (`id`) or
/// the host name it sends (`name`); at least one of the two is set.
public struct DHCPv6Host: Hashable, Codable, Sendable {
    /// The client's DUID, colon-separated hex bytes (`0:3:0:1:52:54:0:12:34:56`).
    public var id: String?
    public var name: String?
    /// The address handed out, in canonical form.
    public var ip: String

    public init(id: String? = nil, name: String? = nil, ip: String) {
        self.id = id
        self.name = name
        self.ip = ip
    }

    /// `id 0:3:… name web-1`, for plans.
    public var summary: String {
        [id.map { "id \($0)" }, name.map { "name \($0)" }].compactMap { $0 }.joined(separator: " ")
    }
}

/// The IPv6 subnet a libvirt network serves (`<ip family='ipv6'>`), with DHCPv6. Addresses are
/// kept in canonical form (`IPv6Address.description`), so a spec and libvirt's echo compare equal.
public struct IPv6Config: Hashable, Codable, Sendable {
    /// The host's address on the network, e.g. `fd00:10:1::1`.
    public var address: String
    /// Prefix length, e.g. 64.
    public var prefix: Int
    /// Dynamic ranges, sorted by start.
    public var dhcpRanges: [DHCPRange]
    /// Static leases, sorted by address.
    public var hosts: [DHCPv6Host]

    public init(address: String, prefix: Int, dhcpRanges: [DHCPRange] = [], hosts: [DHCPv6Host] = []) {
        self.address = IPv6Address.canonical(address)
        self.prefix = prefix
        self.dhcpRanges = dhcpRanges
            .map { DHCPRange(start: IPv6Address.canonical($0.start), end: IPv6Address.canonical($0.end)) }
            .sorted { Self.order($0.start, $1.start) }
        self.hosts = hosts
            .map { DHCPv6Host(id: $0.id?.lowercased(), name: $0.name, ip: IPv6Address.canonical($0.ip)) }
            .sorted { Self.order($0.ip, $1.ip) }
    }

    /// Numeric order of two address texts (text order for what does not parse).
    private static func order(_ a: String, _ b: String) -> Bool {
        if let x = IPv6Address(a), let y = IPv6Address(b) { return x < y }
        return a < b
    }
}
