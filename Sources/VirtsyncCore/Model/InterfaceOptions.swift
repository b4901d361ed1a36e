/// How a macvtap (`direct`) interface shares the host's network device (libvirt `<source mode>`).
public enum DirectMode: String, Codable, Sendable, CaseIterable {
    /// Guests on the same device talk to each other directly, and to the network.
    case bridge
    /// All traffic goes to the external switch (libvirt's default).
    case vepa
    /// Like `vepa`, but guests on the device never reach each other.
    case `private`
    /// The device (an SR-IOV virtual function) is given to the guest alone.
    case passthrough
}

/// One direction of an interface's traffic shaping (libvirt `<inbound>` or `<outbound>`).
/// libvirt counts rates in KiB per second and bursts in KiB: every value is a whole KiB.
public struct BandwidthRate: Hashable, Codable, Sendable {
    /// The average rate, in bytes per second.
    public var average: ByteSize
    /// The highest rate while a burst lasts, in bytes per second.
    public var peak: ByteSize?
    /// How much may be sent at the peak rate, in bytes.
    public var burst: ByteSize?

    public init(average: ByteSize, peak: ByteSize? = nil, burst: ByteSize? = nil) {
        self.average = average
        self.peak = peak
        self.burst = burst
    }

    /// `1MiB/s peak 2MiB/s burst 256KiB`.
    public var summary: String {
        "\(average)/s" + (peak.map { " peak \($0)/s" } ?? "") + (burst.map { " burst \($0)" } ?? "")
    }
}

/// Traffic shaping of an interface (libvirt `<bandwidth>`): inbound is what the guest receives,
/// outbound what it sends. A direction that is `nil` is not shaped. Changed live on a running
/// guest (`virDomainSetInterfaceParameters`).
public struct InterfaceBandwidth: Hashable, Codable, Sendable {
    public var inbound: BandwidthRate?
    public var outbound: BandwidthRate?

    public init(inbound: BandwidthRate? = nil, outbound: BandwidthRate? = nil) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// `true` when neither direction is shaped.
    public var isEmpty: Bool { inbound == nil && outbound == nil }

    /// libvirt's interface parameters (`inbound.average`, ...) in KiB, in a fixed order; a value
    /// that is not set is 0, and an average of 0 removes the shaping of its direction.
    public var parameters: [(name: String, kib: UInt64)] {
        func kib(_ size: ByteSize?) -> UInt64 { (size?.bytes ?? 0) / 1024 }
        return [("inbound.average", kib(inbound?.average)), ("inbound.peak", kib(inbound?.peak)), ("inbound.burst", kib(inbound?.burst)),
                ("outbound.average", kib(outbound?.average)), ("outbound.peak", kib(outbound?.peak)), ("outbound.burst", kib(outbound?.burst))]
    }

    /// The shaping of each interface that has a MAC and some shaping, by MAC (a running guest's
    /// `LiveDomainValues.bandwidth`).
    public static func byMAC(_ interfaces: [InterfaceModel]) -> [String: InterfaceBandwidth] {
        var out: [String: InterfaceBandwidth] = [:]
        for nic in interfaces {
            if let mac = nic.mac, let shaping = nic.options?.bandwidth, !shaping.isEmpty { out[mac] = shaping }
        }
        return out
    }

    /// `in 1MiB/s, out 512KiB/s peak 1MiB/s`, or `none`.
    public var summary: String {
        let parts = [inbound.map { "in \($0.summary)" }, outbound.map { "out \($0.summary)" }].compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// How the native VLAN of a trunk is carried (libvirt `nativeMode`).
public enum VLANNativeMode: String, Codable, Sendable, CaseIterable {
    case tagged, untagged
}

/// The VLANs of an interface (libvirt `<vlan>`): one tag (an access port) or a trunk of tags,
/// one of which may be native. Works on Open vSwitch bridges and SR-IOV devices only.
public struct InterfaceVLAN: Hashable, Codable, Sendable {
    /// The VLAN IDs, 1 to 4094, in ascending order.
    public var tags: [Int]
    /// A trunk port (`trunk='yes'`); `false` for a single tag.
    public var trunk: Bool
    /// The trunk's native VLAN (one of `tags`).
    public var native: Int?
    /// How the native VLAN is carried; set exactly when `native` is.
    public var nativeMode: VLANNativeMode?

    public init(tags: [Int], trunk: Bool = false, native: Int? = nil, nativeMode: VLANNativeMode? = nil) {
        self.tags = tags.sorted()
        self.trunk = trunk
        self.native = native
        self.nativeMode = native == nil ? nil : (nativeMode ?? .untagged)
    }

    /// `tag 42`, `trunk 10,20,30 native 10 untagged`.
    public var summary: String {
        guard trunk else { return "tag \(tags.map(String.init).joined(separator: ","))" }
        return "trunk \(tags.map(String.init).joined(separator: ","))" + (native.map { " native \($0) \(nativeMode?.rawValue ?? "untagged")" } ?? "")
    }
}

/// The kinds of virtual port an interface can plug into (libvirt `<virtualport type>`).
public enum VirtualPortType: String, Codable, Sendable, CaseIterable {
    case openvswitch
}

/// The port of a virtual switch an interface plugs into (libvirt `<virtualport>`).
public struct VirtualPort: Hashable, Codable, Sendable {
    public var type: VirtualPortType
    /// The port's UUID on the switch; `nil` is open (libvirt generates one, which is kept).
    public var interfaceId: String?
    /// The port profile's name; `nil` is open.
    public var profileId: String?

    public init(type: VirtualPortType = .openvswitch, interfaceId: String? = nil, profileId: String? = nil) {
        self.type = type
        self.interfaceId = interfaceId?.lowercased()
        self.profileId = profileId
    }

    /// `openvswitch interfaceid=… profileid=…`.
    public var summary: String {
        type.rawValue + (interfaceId.map { " interfaceid=\($0)" } ?? "") + (profileId.map { " profileid=\($0)" } ?? "")
    }
}

/// An interface's settings beyond its source, MAC, model and link. Every field is optional;
/// `nil` leaves libvirt's (or whoever set it) and is not compared.
public struct InterfaceOptions: Hashable, Codable, Sendable {
    /// Traffic shaping; changed live on a running guest.
    public var bandwidth: InterfaceBandwidth?
    /// The MTU the guest's device reports and the host's tap device gets (`<mtu size>`).
    public var mtu: Int?
    /// The number of queue pairs of a virtio NIC (`<driver queues>`): multiqueue.
    public var queues: Int?
    public var vlan: InterfaceVLAN?
    public var virtualPort: VirtualPort?
    /// The port group of the interface's libvirt network (`<source portgroup>`); network
    /// interfaces only.
    public var portgroup: String?

    public init(bandwidth: InterfaceBandwidth? = nil, mtu: Int? = nil, queues: Int? = nil, vlan: InterfaceVLAN? = nil,
                virtualPort: VirtualPort? = nil, portgroup: String? = nil) {
        self.portgroup = portgroup
        self.bandwidth = bandwidth
        self.mtu = mtu
        self.queues = queues
        self.vlan = vlan
        self.virtualPort = virtualPort
    }

    /// `true` when nothing is set.
    public var isEmpty: Bool { self == InterfaceOptions() }

    /// What of `self` (observed) the spec's `wanted` controls: the fields `wanted` leaves open
    /// are dropped, so libvirt's defaults (a generated Open vSwitch port ID) are no drift. A
    /// bandwidth the spec gives is compared whole: a direction it leaves out is unshaped.
    public func masked(by wanted: InterfaceOptions?) -> InterfaceOptions? {
        guard let wanted else { return nil }
        var port = wanted.virtualPort == nil ? nil : virtualPort
        if let want = wanted.virtualPort {
            if want.interfaceId == nil { port?.interfaceId = nil }
            if want.profileId == nil { port?.profileId = nil }
        }
        let out = InterfaceOptions(bandwidth: wanted.bandwidth == nil ? nil : (bandwidth ?? InterfaceBandwidth()),
                                   // No queue count is one queue pair.
                                   mtu: wanted.mtu == nil ? nil : mtu, queues: wanted.queues == nil ? nil : (queues ?? 1),
                                   vlan: wanted.vlan == nil ? nil : vlan, virtualPort: port,
                                   portgroup: wanted.portgroup == nil ? nil : portgroup)
        return out.isEmpty ? nil : out
    }

    /// ` portgroup=web mtu=9000 queues=4 vlan(tag 42) bandwidth(in 1MiB/s)` for plan lines.
    public var summary: String {
        var parts: [String] = []
        if let portgroup { parts.append("portgroup=\(portgroup)") }
        if let mtu { parts.append("mtu=\(mtu)") }
        if let queues { parts.append("queues=\(queues)") }
        if let vlan { parts.append("vlan(\(vlan.summary))") }
        if let virtualPort { parts.append("virtualport(\(virtualPort.summary))") }
        if let bandwidth { parts.append("bandwidth(\(bandwidth.summary))") }
        return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
    }
}
