import VirtsyncCore

extension DocumentDecoder {
    static let portgroupKeys = KeySet(["name", "default", "vlan", "bandwidth"])
    /// A network's shaping takes the keys of an interface's, and `floor` only to say why not.
    static let networkRateKeys = KeySet(["average", "peak", "burst", "floor"])

    /// `mtu`, `uplink`, `bandwidth` and `portgroups` of a network, with the combinations libvirt
    /// refuses reported at their keys. Each left out stays libvirt's.
    func decodeNetworkLink(_ map: MapReader, mode: NetworkMode, into network: inout NetworkSpec) {
        if let mtu = map.int("mtu", range: Self.mtuRange) {
            if mode == .bridge {
                reporter.error(mtu.location, map.keyPath("mtu"),
                               "'mtu' is not allowed in bridge mode: the host's bridge is not libvirt's, set its MTU on the host")
            } else {
                network.mtu = mtu.value
            }
        }
        if let uplink = map.string("uplink") {
            if let problem = Formats.bridgeProblem(uplink.value) {
                reporter.error(uplink.location, map.keyPath("uplink"), problem.replacingFirst("bridge name ", with: "device name "))
            } else if !NetworkModel.takesUplink(mode) {
                reporter.error(map.keyLocation("uplink"), map.keyPath("uplink"),
                               "'uplink' applies to a nat or routed network (libvirt's <forward dev>); \(mode == .open || mode == .isolated ? "an" : "a") \(mode.rawValue) network has none")
            } else {
                network.uplink = uplink
            }
        }
        if let bandwidth = map.map("bandwidth", keys: Self.bandwidthKeys) {
            let shaping = InterfaceBandwidth(inbound: bandwidth.map("inbound", keys: Self.networkRateKeys).flatMap(readNetworkRate),
                                             outbound: bandwidth.map("outbound", keys: Self.networkRateKeys).flatMap(readNetworkRate))
            if mode == .bridge {
                reporter.error(map.keyLocation("bandwidth"), map.keyPath("bandwidth"),
                               "'bandwidth' is not allowed in bridge mode: virtsync shapes only networks whose bridge libvirt makes (shape the VMs' interfaces instead)")
            } else {
                network.bandwidth = shaping
            }
        }
        network.portgroups = readPortgroups(map, mode: mode, hatch: network.xml?.value)
    }

    /// A direction of a network's shaping: an interface's rate; `floor` is refused (libvirt takes
    /// it only on an interface plugged into a network, never on the network).
    private func readNetworkRate(_ map: MapReader) -> BandwidthRate? {
        if map.has("floor") {
            reporter.error(map.keyLocation("floor"), map.keyPath("floor"),
                           "'floor' is not allowed on a network: libvirt guarantees a floor to an interface on the network, not to the network itself")
        }
        return readRate(map)
    }

    /// `portgroups: [{name, default, vlan, bandwidth}]` (nil when left out): unique names, at most one default, a
    /// VLAN only where libvirt can tag (a bridge-mode network on Open vSwitch).
    private func readPortgroups(_ map: MapReader, mode: NetworkMode, hatch: String?) -> [Located<NetworkPortgroup>]? {
        guard let list = map.list("portgroups") else { return nil }
        var groups: [Located<NetworkPortgroup>] = []
        var names: [String: SourceLocation] = [:]
        var defaultAt: SourceLocation?
        for (index, node) in list.enumerated() {
            let path = "\(map.keyPath("portgroups"))[\(index)]"
            guard let entry = MapReader(node, file: file, path: path, keys: Self.portgroupKeys, reporter: reporter) else { continue }
            var valid = true
            var group = NetworkPortgroup(name: "")
            if let name = entry.string("name", required: true) {
                if let problem = Formats.tokenProblem(name.value) {
                    reporter.error(name.location, entry.keyPath("name"), "port group name \(problem)")
                    valid = false
                } else if let first = names[name.value] {
                    reporter.error(name.location, entry.keyPath("name"), "port group \(name.value) is declared twice (first at \(first))")
                    valid = false
                } else {
                    names[name.value] = name.location
                    group.name = name.value
                }
            } else {
                valid = false
            }
            if entry.bool("default") == true {
                if let first = defaultAt {
                    reporter.error(entry.keyLocation("default"), entry.keyPath("default"),
                                   "only one port group may be the default; another is at \(first)")
                    valid = false
                } else {
                    defaultAt = entry.keyLocation("default")
                    group.isDefault = true
                }
            }
            if let vlan = entry.map("vlan", keys: Self.vlanKeys) {
                group.vlan = readVLAN(vlan)
                let onSwitch = mode == .bridge && (hatch ?? "").contains("openvswitch")
                if !onSwitch {
                    // libvirt refuses it when the network is defined.
                    reporter.error(entry.keyLocation("vlan"), entry.keyPath("vlan"),
                                   "a VLAN in a port group needs a bridge-mode network on Open vSwitch (<virtualport type='openvswitch'/> in xml.network); libvirt cannot tag on a \(mode == .bridge ? "Linux bridge" : "\(mode.rawValue) network")")
                    valid = false
                }
            }
            if let bandwidth = entry.map("bandwidth", keys: Self.bandwidthKeys) {
                group.bandwidth = InterfaceBandwidth(inbound: bandwidth.map("inbound", keys: Self.rateKeys).flatMap(readRate),
                                                     outbound: bandwidth.map("outbound", keys: Self.rateKeys).flatMap(readRate))
                if group.bandwidth?.isEmpty == true { group.bandwidth = nil }
            }
            if valid { groups.append(Located(group, entry.location)) }
        }
        return groups
    }
}
