import VirtsyncCore

extension SpecWriter {
    /// The lines of an interface's options, indented for an `interfaces` entry; none when it has none.
    static func interfaceOptionLines(_ options: InterfaceOptions?) -> [String] {
        guard let options else { return [] }
        var lines: [String] = []
        if let bandwidth = options.bandwidth {
            func rate(_ key: String, _ rate: BandwidthRate?) -> String? {
                guard let rate else { return nil }
                let parts = ["average: \(rate.average)", rate.peak.map { "peak: \($0)" }, rate.burst.map { "burst: \($0)" }].compactMap { $0 }
                return "\(key): {\(parts.joined(separator: ", "))}"
            }
            let directions = [rate("inbound", bandwidth.inbound), rate("outbound", bandwidth.outbound)].compactMap { $0 }
            lines.append("    bandwidth: {\(directions.joined(separator: ", "))}")
        }
        if let mtu = options.mtu { lines.append("    mtu: \(mtu)") }
        if let queues = options.queues { lines.append("    queues: \(queues)") }
        if let vlan = options.vlan {
            if vlan.trunk {
                var parts = ["trunk: true", "tags: [\(vlan.tags.map(String.init).joined(separator: ", "))]"]
                if let native = vlan.native { parts += ["native: \(native)", "nativeMode: \((vlan.nativeMode ?? .untagged).rawValue)"] }
                lines.append("    vlan: {\(parts.joined(separator: ", "))}")
            } else if let tag = vlan.tags.first {
                lines.append("    vlan: {tag: \(tag)}")
            }
        }
        if let port = options.virtualPort {
            var parts = ["type: \(port.type.rawValue)"]
            if let id = port.interfaceId { parts.append("interfaceId: \(quoted(id))") }
            if let profile = port.profileId { parts.append("profileId: \(scalar(profile))") }
            lines.append("    virtualport: {\(parts.joined(separator: ", "))}")
        }
        return lines
    }
}
