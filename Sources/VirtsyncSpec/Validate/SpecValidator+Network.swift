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

extension SpecValidator {
    /// An interface's `portgroup` names a group of its network, when the network is in the spec
    /// and lists its groups (a network that leaves `portgroups` out has libvirt's, unknown here).
    func checkPortgroupReferences() {
        for vm in spec.machines {
            for nic in vm.interfaces {
                guard let group = nic.portgroup, let network = nic.network, let position = index.networksByName[network.value],
                      let groups = spec.networks[position].portgroups else { continue }
                let names = groups.map(\.value.name)
                guard !names.contains(group.value) else { continue }
                var message = "network \(network.value) has no port group \(group.value.quotedForMessage)"
                if let close = Suggest.closest(to: group.value, among: names) {
                    message += "; did you mean '\(close)'?"
                } else {
                    message += names.isEmpty ? " (it declares none)" : " (it has \(names.sorted().joined(separator: ", ")))"
                }
                reporter.error(group.location, nic.path + ".portgroup", message)
            }
        }
    }
}
