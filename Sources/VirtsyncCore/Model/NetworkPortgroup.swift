/// A port group of a libvirt network (`<portgroup>`): VLAN and traffic-shaping settings under a
/// name, which a VM interface on the network picks with its `portgroup` (an interface that picks
/// none gets the network's default group, when it has one).
public struct NetworkPortgroup: Hashable, Codable, Sendable {
    /// The group's name, unique in its network.
    public var name: String
    /// Interfaces that name no group get this one (`default='yes'`); at most one per network.
    public var isDefault: Bool
    /// The VLANs of the group's ports (`<vlan>`); `nil`: none.
    public var vlan: InterfaceVLAN?
    /// The shaping of each port in the group (`<bandwidth>`); `nil`: none.
    public var bandwidth: InterfaceBandwidth?

    public init(name: String, isDefault: Bool = false, vlan: InterfaceVLAN? = nil, bandwidth: InterfaceBandwidth? = nil) {
        self.name = name
        self.isDefault = isDefault
        self.vlan = vlan
        self.bandwidth = bandwidth?.isEmpty == true ? nil : bandwidth
    }

    /// `default vlan(tag 42) bandwidth(in 1024KiB/s)`, or `plain`, for plan lines.
    public var summary: String {
        var parts: [String] = []
        if isDefault { parts.append("default") }
        if let vlan { parts.append("vlan(\(vlan.summary))") }
        if let bandwidth { parts.append("bandwidth(\(bandwidth.summary))") }
        return parts.isEmpty ? "plain" : parts.joined(separator: " ")
    }
}

extension NetworkModel {
    /// Whether libvirt takes an uplink device (`<forward dev>`) in this mode: NAT and routed only
    /// (libvirt refuses it with `open`; `isolated` has no `<forward>`).
    public static func takesUplink(_ mode: NetworkMode) -> Bool { mode == .nat || mode == .routed }

    /// `self` with the parts the spec leaves out (`nil`: MTU, uplink, bandwidth, port groups)
    /// taken from `current` (what libvirt has): a redefinition keeps them.
    public func keepingOpenParts(of current: NetworkModel?) -> NetworkModel {
        var out = self
        if out.mtu == nil { out.mtu = current?.mtu }
        if out.uplink == nil { out.uplink = current?.uplink }
        if out.bandwidth == nil { out.bandwidth = current?.bandwidth }
        if out.portgroups == nil { out.portgroups = current?.portgroups }
        return out.definitionForm
    }

    /// The form libvirt gives back for this value: no uplink where the mode takes none, empty
    /// shaping and an empty list of port groups as none, port groups by name. The adapter
    /// compares this form before deciding to redefine.
    public var definitionForm: NetworkModel {
        var out = self
        if !Self.takesUplink(mode) { out.uplink = nil }
        if out.bandwidth?.isEmpty == true { out.bandwidth = nil }
        out.portgroups = portgroups.flatMap { list in
            list.isEmpty ? nil : list.map { NetworkPortgroup(name: $0.name, isDefault: $0.isDefault, vlan: $0.vlan, bandwidth: $0.bandwidth) }
                .sorted { $0.name < $1.name }
        }
        return out
    }
}
