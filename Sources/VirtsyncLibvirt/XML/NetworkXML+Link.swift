import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// `<forward>` for a mode, with the uplink device (`dev`) where the mode takes one;
    /// `nil` for an isolated network.
    static func forwardElement(_ model: NetworkModel) -> XElement? {
        let mode: String
        switch model.mode {
        case .nat: mode = "nat"
        case .routed: mode = "route"
        case .open: mode = "open"
        case .bridge: mode = "bridge"
        case .isolated: return nil
        }
        var attributes = [("mode", mode)]
        if let uplink = model.uplink, NetworkModel.takesUplink(model.mode) { attributes.append(("dev", uplink)) }
        return XElement("forward", attributes)
    }

    /// `<portgroup name default>` with its `<vlan>` and `<bandwidth>`; also the text given to
    /// `virNetworkUpdate` (section portgroup).
    static func portgroupElement(_ group: NetworkPortgroup) -> XElement {
        var element = XElement("portgroup", [("name", group.name)] + (group.isDefault ? [("default", "yes")] : []))
        if let vlan = group.vlan { element.append(vlanElement(vlan)) }
        if let bandwidth = group.bandwidth, !bandwidth.isEmpty { element.append(bandwidthElement(bandwidth)) }
        return element
    }

    /// The mode of a `<forward>`: `route` is routed, `open` open; the modes the model lacks
    /// (`passthrough`, `private`, `vepa`, `hostdev`) are read as `bridge`. No `<forward>` is
    /// isolated.
    static func parseMode(_ forward: XElement?) -> NetworkMode {
        guard let forward else { return .isolated }
        switch forward[attribute: "mode"] ?? "nat" {
        case "nat": return .nat
        case "route": return .routed
        case "open": return .open
        default: return .bridge
        }
    }

    /// The port groups of a network, by name; `nil` when it has none.
    static func parsePortgroups(_ root: XElement) -> [NetworkPortgroup]? {
        let groups = root.children(named: "portgroup").compactMap { element -> NetworkPortgroup? in
            guard let name = element[attribute: "name"] else { return nil }
            return NetworkPortgroup(name: name, isDefault: element[attribute: "default"] == "yes",
                                    vlan: parseVLAN(element.child("vlan")), bandwidth: parseBandwidth(element.child("bandwidth")))
        }
        return groups.isEmpty ? nil : groups.sorted { $0.name < $1.name }
    }
}
