import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// `<domain>` and `<dns>` of a network, in libvirt's order; none for parts left open.
    static func dnsElements(_ dns: NetworkDNS) -> [XElement] {
        var out: [XElement] = []
        if let domain = dns.domain {
            var attributes = [("name", domain)]
            if let local = dns.localOnly { attributes.append(("localOnly", local ? "yes" : "no")) }
            out.append(XElement("domain", attributes))
        }
        var attributes: [(String, String)] = []
        if dns.enable == false { attributes.append(("enable", "no")) }
        if let plain = dns.forwardPlainNames { attributes.append(("forwardPlainNames", plain ? "yes" : "no")) }
        var element = XElement("dns", attributes)
        for forwarder in dns.forwarders ?? [] {
            var attributes: [(String, String)] = []
            if let domain = forwarder.domain { attributes.append(("domain", domain)) }
            if let addr = forwarder.addr { attributes.append(("addr", addr)) }
            element.append(XElement("forwarder", attributes))
        }
        for host in dns.hosts ?? [] { element.append(dnsHostElement(host)) }
        if !attributes.isEmpty || !(dns.forwarders ?? []).isEmpty || !(dns.hosts ?? []).isEmpty { out.append(element) }
        return out
    }

    /// `<host ip><hostname>…</hostname></host>`, also the text `virNetworkUpdate` takes.
    static func dnsHostElement(_ host: DNSHost) -> XElement {
        XElement("host", [("ip", host.ip)], children: host.names.map { .element(XElement("hostname", text: $0)) })
    }

    /// The network's `<domain>` and `<dns>`; `nil` when it has neither.
    static func parseDNS(_ root: XElement) -> NetworkDNS? {
        let domain = root.child("domain")
        let dns = root.child("dns")
        guard domain != nil || dns != nil else { return nil }
        let hosts: [DNSHost] = (dns?.children(named: "host") ?? []).compactMap { host in
            guard let ip = host[attribute: "ip"] else { return nil }
            return DNSHost(ip: ip, names: host.children(named: "hostname").map { $0.text.trimmed })
        }
        let forwarders: [DNSForwarder] = (dns?.children(named: "forwarder") ?? []).map {
            DNSForwarder(domain: $0[attribute: "domain"], addr: $0[attribute: "addr"])
        }
        func flag(_ value: String?) -> Bool? { value.map { $0 == "yes" } }
        let enable: Bool? = dns?[attribute: "enable"] == "no" ? false : nil
        let plain = flag(dns?[attribute: "forwardPlainNames"])
        // A <dns> with only raw XML in it (<txt>, <srv>) is none of the model's.
        if domain == nil && hosts.isEmpty && forwarders.isEmpty && enable == nil && plain == nil { return nil }
        return NetworkDNS(domain: domain?[attribute: "name"], localOnly: domain.map { $0[attribute: "localOnly"] == "yes" },
                          hosts: hosts, forwarders: forwarders,
                          enable: enable, forwardPlainNames: plain)
    }
}
