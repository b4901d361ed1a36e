import VirtsyncCore

extension SpecWriter {
    /// The lines of an interface's options, indented for an `interfaces` entry; none when it has none.
    static func interfaceOptionLines(_ options: InterfaceOptions?) -> [String] {
        guard let options else { return [] }
        var lines: [String] = []
        if let group = options.portgroup { lines.append("    portgroup: \(scalar(group))") }
        if let bandwidth = options.bandwidth { lines.append("    bandwidth: \(bandwidthFlow(bandwidth))") }
        if let mtu = options.mtu { lines.append("    mtu: \(mtu)") }
        if let queues = options.queues { lines.append("    queues: \(queues)") }
        if let vlan = options.vlan, let flow = vlanFlow(vlan) { lines.append("    vlan: \(flow)") }
        if let port = options.virtualPort {
            var parts = ["type: \(port.type.rawValue)"]
            if let id = port.interfaceId { parts.append("interfaceId: \(quoted(id))") }
            if let profile = port.profileId { parts.append("profileId: \(scalar(profile))") }
            lines.append("    virtualport: {\(parts.joined(separator: ", "))}")
        }
        return lines
    }

    /// `{inbound: {average: 1MiB, peak: 2MiB}, outbound: {...}}`; `{}` for no shaping.
    static func bandwidthFlow(_ bandwidth: InterfaceBandwidth) -> String {
        func rate(_ key: String, _ rate: BandwidthRate?) -> String? {
            guard let rate else { return nil }
            let parts = ["average: \(rate.average)", rate.peak.map { "peak: \($0)" }, rate.burst.map { "burst: \($0)" }].compactMap { $0 }
            return "\(key): {\(parts.joined(separator: ", "))}"
        }
        let directions = [rate("inbound", bandwidth.inbound), rate("outbound", bandwidth.outbound)].compactMap { $0 }
        return "{\(directions.joined(separator: ", "))}"
    }

    /// `{tag: 42}` or `{trunk: true, tags: [10, 20], ...}`; `nil` for a VLAN without tags.
    static func vlanFlow(_ vlan: InterfaceVLAN) -> String? {
        if vlan.trunk {
            var parts = ["trunk: true", "tags: [\(vlan.tags.map(String.init).joined(separator: ", "))]"]
            if let native = vlan.native { parts += ["native: \(native)", "nativeMode: \((vlan.nativeMode ?? .untagged).rawValue)"] }
            return "{\(parts.joined(separator: ", "))}"
        }
        return vlan.tags.first.map { "{tag: \($0)}" }
    }
}
