import Testing
import VirtsyncCore
import VirtsyncSpec

/// `dns` of a network in the spec: decoding, and mistakes reported at their keys with file and line.
@Suite("network DNS in the spec")
struct NetworkDNSSpecTests {
    private func load(_ dns: String, mode: String = "nat") -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: Network
            name: labdns
            mode: \(mode)
            ipv4:
              address: 192.168.102.1/24
            \(dns)
            """
        return SpecLoader.load(files: [SpecFile(path: "net.yaml", bytes: Array(text.utf8))])
    }

    @Test("domain, localOnly, host records and forwarders reach the model; IPv6 addresses in canonical form")
    func decodes() throws {
        let result = load("""
            dns:
              domain: lab.example
              localOnly: true
              forwardPlainNames: false
              hosts:
                - {ip: 192.168.102.5, names: [db, db.lab.example]}
                - {ip: "FD00:10:2:0::5", names: [db6]}
              forwarders:
                - {addr: 192.0.2.53}
                - {domain: corp.example, addr: 192.0.2.54}
                - {domain: local.test}
            """)
        let net = try #require(result.desired?.hosts.first?.networks.first, "\(result.diagnostics)")
        #expect(result.diagnostics.description.isEmpty, "\(result.diagnostics)")
        #expect(net.dns == NetworkDNS(domain: "lab.example", localOnly: true,
                                      hosts: [DNSHost(ip: "192.168.102.5", names: ["db", "db.lab.example"]), DNSHost(ip: "fd00:10:2::5", names: ["db6"])],
                                      forwarders: [DNSForwarder(addr: "192.0.2.53"), DNSForwarder(domain: "corp.example", addr: "192.0.2.54"),
                                                   DNSForwarder(domain: "local.test")],
                                      forwardPlainNames: false))
    }

    @Test("parts left out stay open: only hosts given compares only hosts")
    func partsOpen() throws {
        let result = load("dns:\n  hosts: [{ip: 192.168.102.7, names: [x]}]")
        let net = try #require(result.desired?.hosts.first?.networks.first, "\(result.diagnostics)")
        #expect(net.dns == NetworkDNS(hosts: [DNSHost(ip: "192.168.102.7", names: ["x"])]))
        #expect(net.dns?.domain == nil && net.dns?.forwarders == nil)
    }

    @Test("bad addresses, names, empty records, forwarders without addr or domain, localOnly without domain are reported with file and line")
    func mistakes() {
        let result = load("""
            dns:
              localOnly: true
              hosts:
                - {ip: 192.168.102.500, names: [a]}
                - {ip: 192.168.102.6, names: []}
                - {ip: 192.168.102.7, names: ["bad name"]}
                - {ip: 192.168.102.8, names: [dup]}
                - {ip: 192.168.102.9, names: [dup]}
              forwarders:
                - {}
                - {addr: nowhere}
            """)
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("net.yaml:8:3: error: Network[labdns].dns.localOnly: 'localOnly' needs 'domain'"), "\(text)")
        #expect(text.contains("net.yaml:10:12: error: Network[labdns].dns.hosts[0].ip: '192.168.102.500' is not an IPv4 or IPv6 address"), "\(text)")
        #expect(text.contains("error: Network[labdns].dns.hosts[1].names: a DNS host record needs at least one name"), "\(text)")
        #expect(text.contains("error: Network[labdns].dns.hosts[2].names: 'bad name' is not a valid host name"), "\(text)")
        #expect(text.contains("net.yaml:14:35: error: Network[labdns].dns.hosts[4].names: name dup is in another DNS host record at net.yaml:13:35"), "\(text)")
        #expect(text.contains("error: Network[labdns].dns.forwarders[0].addr: a forwarder needs 'addr', 'domain' or both"), "\(text)")
        #expect(text.contains("error: Network[labdns].dns.forwarders[1].addr: 'nowhere' is not an IPv4 or IPv6 address"), "\(text)")
        #expect(load("dns: {enable: false, domain: x.example}").diagnostics.description.contains("'domain' needs DNS"))
        #expect(load("dns: {domain: x.example}", mode: "bridge\nbridge: br0").diagnostics.description.contains("'dns' is not allowed in bridge mode"))
    }
}
