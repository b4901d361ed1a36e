extension NetworkDiff {
    /// `dns`: host records change live (`virNetworkUpdate`), keyed by address; the domain, its
    /// `localOnly`, forwarders, `enable` and `forwardPlainNames` need the network redefined and
    /// restarted (`replace`). A part the spec leaves out is not compared.
    static func dns(_ before: NetworkModel?, _ after: NetworkModel) -> [FieldChange] {
        guard let b = after.dns else { return [] }
        let creating = before == nil
        var fields = FieldList(creating: creating)
        let a = before?.dns
        if let domain = b.domain { fields.compare("dns.domain", a?.domain, domain, .replace) }
        if let local = b.localOnly { fields.compare("dns.localOnly", String(a?.localOnly ?? false), String(local), .replace) }
        if let enable = b.enable { fields.compare("dns.enable", String(a?.enable ?? true), String(enable), .replace) }
        if let plain = b.forwardPlainNames {
            fields.compare("dns.forwardPlainNames", String(a?.forwardPlainNames ?? false), String(plain), .replace)
        }
        if let forwarders = b.forwarders {
            func text(_ list: [DNSForwarder]?) -> String? {
                guard let list, !list.isEmpty else { return creating ? nil : "none" }
                return list.map(\.summary).joined(separator: ", ")
            }
            fields.compare("dns.forwarders", text(a?.forwarders), text(forwarders), .replace)
        }
        if let hosts = b.hosts {
            let old = Dictionary((a?.hosts ?? []).map { ($0.ip, $0.names.joined(separator: " ")) }, uniquingKeysWith: { first, _ in first })
            let new = Dictionary(hosts.map { ($0.ip, $0.names.joined(separator: " ")) }, uniquingKeysWith: { first, _ in first })
            for ip in Set(old.keys).union(new.keys).sorted() where old[ip] != new[ip] {
                fields.changes.append(FieldChange(field: "dns.hosts[\(ip)]", before: old[ip], after: new[ip], disruption: creating ? .none : .live))
            }
        }
        return fields.changes
    }
}
