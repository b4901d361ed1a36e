/// A DNS host record served by a network's dnsmasq (`<dns><host ip><hostname>`).
public struct DNSHost: Hashable, Codable, Sendable {
    /// The address, IPv4 or IPv6 (canonical form).
    public var ip: String
    /// Its names, in the spec's order.
    public var names: [String]

    public init(ip: String, names: [String]) {
        self.ip = ip.contains(":") ? IPv6Address.canonical(ip) : ip
        self.names = names
    }
}

/// Where a network's dnsmasq forwards queries (`<dns><forwarder>`): every query to `addr`, or
/// the queries for `domain` to `addr`, or (no `addr`) answers for `domain` locally only.
public struct DNSForwarder: Hashable, Codable, Sendable {
    public var domain: String?
    public var addr: String?

    public init(domain: String? = nil, addr: String? = nil) {
        self.domain = domain
        self.addr = addr.map { $0.contains(":") ? IPv6Address.canonical($0) : $0 }
    }

    /// `corp.example → 10.0.0.53`, `→ 1.1.1.1`, `local.test (local only)`.
    public var summary: String {
        switch (domain, addr) {
        case let (domain?, addr?): return "\(domain) → \(addr)"
        case let (nil, addr?): return "→ \(addr)"
        case let (domain?, nil): return "\(domain) (local only)"
        case (nil, nil): return "(empty)"
        }
    }
}

/// The DNS a network serves. Every part is optional: a part the spec leaves out is libvirt's,
/// never compared and kept when virtsync redefines the network.
public struct NetworkDNS: Hashable, Codable, Sendable {
    /// The network's DNS domain (`<domain name>`): guests' names are resolved in it.
    public var domain: String?
    /// Queries for `domain` are answered from the network's own records only (`localOnly='yes'`).
    public var localOnly: Bool?
    /// Host records, sorted by address.
    public var hosts: [DNSHost]?
    /// Forwarders, in the spec's order (dnsmasq tries them in order).
    public var forwarders: [DNSForwarder]?
    /// `false`: the network serves no DNS at all (`<dns enable='no'>`).
    public var enable: Bool?
    /// Queries for names without a dot are forwarded too (`<dns forwardPlainNames>`).
    public var forwardPlainNames: Bool?

    public init(domain: String? = nil, localOnly: Bool? = nil, hosts: [DNSHost]? = nil, forwarders: [DNSForwarder]? = nil,
                enable: Bool? = nil, forwardPlainNames: Bool? = nil) {
        self.domain = domain
        self.localOnly = localOnly
        self.hosts = hosts?.sorted { $0.ip < $1.ip }
        self.forwarders = forwarders
        self.enable = enable
        self.forwardPlainNames = forwardPlainNames
    }

    /// `self` with every part it leaves open taken from `fallback` (what libvirt has).
    public func filled(from fallback: NetworkDNS?) -> NetworkDNS {
        NetworkDNS(domain: domain ?? fallback?.domain, localOnly: localOnly ?? fallback?.localOnly,
                   hosts: hosts ?? fallback?.hosts, forwarders: forwarders ?? fallback?.forwarders,
                   enable: enable ?? fallback?.enable, forwardPlainNames: forwardPlainNames ?? fallback?.forwardPlainNames)
    }

    /// The form libvirt gives back for this value: empty lists as no list, `nil` when nothing
    /// is left (no `<dns>` and no `<domain>` would be written). Compared by the adapter before
    /// deciding to redefine.
    public var definitionForm: NetworkDNS? {
        let out = NetworkDNS(domain: domain, localOnly: domain == nil ? nil : (localOnly ?? false),
                             hosts: hosts?.isEmpty == false ? hosts : nil,
                             forwarders: forwarders?.isEmpty == false ? forwarders : nil,
                             enable: enable == false ? false : nil, forwardPlainNames: forwardPlainNames == true ? true : nil)
        return out == NetworkDNS() ? nil : out
    }
}
