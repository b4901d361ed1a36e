import VirtsyncCore

extension SpecValidator {
    /// Two networks on one host may not have overlapping IPv6 prefixes: both bridges would claim
    /// the same addresses (and their DHCPv6 ranges could hand out the same one).
    func checkIPv6Prefixes() {
        var taken: [String: [(name: String, network: IPv6Address, prefix: Int)]] = [:]
        for (position, network) in spec.networks.enumerated() {
            guard let name = network.header.name?.value, let ipv6 = network.ipv6 else { continue }
            var reported = false
            for placed in index.networkHosts[position] {
                if !reported, let other = taken[placed, default: []].first(where: {
                    ipv6.address.isIn($0.network, prefix: min($0.prefix, ipv6.prefix))
                }) {
                    reporter.error(ipv6.addressLocation, ipv6.addressPath,
                                   "prefix \(ipv6.address.masked(ipv6.prefix))/\(ipv6.prefix) overlaps \(other.network)/\(other.prefix) "
                                   + "of Network[\(other.name)] on host \(placed)")
                    reported = true
                }
                taken[placed, default: []].append((name, ipv6.address.masked(ipv6.prefix), ipv6.prefix))
            }
        }
    }
}
