/// Host-wide settings a new resource cannot share with an existing one: libvirt refuses the
/// create, so the plan says why beforehand.
enum Conflicts {
    /// What a new network would share with the existing ones (a bridge device, a subnet).
    static func network(_ new: NetworkModel, among existing: some Sequence<ObservedNetwork>) -> [String] {
        var out: [String] = []
        for other in existing where other.model.name != new.name {
            if let bridge = new.bridge, bridge == other.model.bridge {
                out.append("bridge \(bridge) is used by network \(other.model.name)")
            }
            if let a = new.ipv4, let b = other.model.ipv4, overlap(a, b) {
                out.append("subnet \(a.address)/\(a.prefix) overlaps network \(other.model.name) (\(b.address)/\(b.prefix))")
            }
        }
        return out
    }

    /// Whether two IPv4 subnets share addresses (the shorter prefix decides).
    static func overlap(_ a: IPv4Config, _ b: IPv4Config) -> Bool {
        guard let x = address(a.address), let y = address(b.address) else { return false }
        let prefix = max(0, min(32, min(a.prefix, b.prefix)))
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        return x & mask == y & mask
    }

    static func address(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let part, part < 256 else { return nil }
            value = value << 8 | part
        }
        return value
    }
}
