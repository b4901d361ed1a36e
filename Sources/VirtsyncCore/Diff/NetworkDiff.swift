/// Field changes of the parts of a network that the spec may leave out: a part the spec does not
/// set is libvirt's and never compared.
enum NetworkDiff {
    /// `ipv6`: the address and the ranges need the network redefined and restarted (`replace`);
    /// static DHCPv6 hosts change live (`virNetworkUpdate`), keyed by their address.
    static func ipv6(_ before: NetworkModel?, _ after: NetworkModel) -> [FieldChange] {
        guard let b = after.ipv6 else { return [] }
        let creating = before == nil
        var fields = FieldList(creating: creating)
        let a = before?.ipv6
        fields.compare("ipv6.address", a.map { "\($0.address)/\($0.prefix)" }, "\(b.address)/\(b.prefix)", .replace)
        fields.compare("ipv6.dhcp.ranges", a.map { ranges($0.dhcpRanges) } ?? (creating ? nil : "none"),
                       b.dhcpRanges.isEmpty && creating ? nil : ranges(b.dhcpRanges), .replace)
        let old = Dictionary((a?.hosts ?? []).map { ($0.ip, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(b.hosts.map { ($0.ip, $0) }, uniquingKeysWith: { first, _ in first })
        for ip in Set(old.keys).union(new.keys).sorted(by: order) where old[ip] != new[ip] {
            fields.changes.append(FieldChange(field: "ipv6.dhcp.hosts[\(ip)]", before: old[ip]?.summary, after: new[ip]?.summary,
                                              disruption: creating ? .none : .live))
        }
        return fields.changes
    }

    /// `mtu`, `uplink` and `bandwidth`: libvirt applies them when the network starts, so a
    /// change redefines and restarts it (`replace`). Each left out is not compared; a bandwidth
    /// given is compared whole (a direction it leaves out is unshaped).
    static func link(_ before: NetworkModel?, _ after: NetworkModel) -> [FieldChange] {
        var fields = FieldList(creating: before == nil)
        if let mtu = after.mtu { fields.compare("mtu", before?.mtu.map(String.init), String(mtu), .replace) }
        if let uplink = after.uplink, NetworkModel.takesUplink(after.mode) { fields.compare("uplink", before?.uplink, uplink, .replace) }
        if let shaping = after.bandwidth {
            let old = before.map { ($0.bandwidth ?? InterfaceBandwidth()).summary }
            fields.compare("bandwidth", old, shaping.isEmpty && before == nil ? nil : shaping.summary, .replace)
        }
        return fields.changes
    }

    private static func ranges(_ list: [DHCPRange]) -> String {
        list.isEmpty ? "none" : list.map { "\($0.start)-\($0.end)" }.joined(separator: ", ")
    }

    private static func order(_ a: String, _ b: String) -> Bool {
        if let x = IPv6Address(a), let y = IPv6Address(b) { return x < y }
        return a < b
    }
}
