import VirtsyncCore

extension DocumentDecoder {
    static let interfaceOptionKeys = ["bandwidth", "mtu", "queues", "vlan", "virtualport", "portgroup"]
    static let directKeys = KeySet(["device", "mode"])
    static let bandwidthKeys = KeySet(["inbound", "outbound"])
    static let rateKeys = KeySet(["average", "peak", "burst"])
    static let vlanKeys = KeySet(["tag", "trunk", "tags", "native", "nativeMode"])
    static let virtualPortKeys = KeySet(["type", "interfaceId", "profileId"])
    /// The VLAN IDs a port may carry (0 and 4095 are reserved by 802.1Q).
    static let vlanRange = 1...4094
    /// The MTUs Linux gives a tap or macvtap device (68: the IPv4 minimum).
    static let mtuRange = 68...65535
    /// The queue pairs a tap device may have (the kernel's MAX_TAP_QUEUES).
    static let queueRange = 1...256
    /// The largest rate or burst libvirt takes: an unsigned int of KiB.
    static let maxBandwidthKiB = UInt64(UInt32.max)

    /// `direct: {device, mode}`: a host network device shared through macvtap.
    func readDirect(_ map: MapReader) -> Located<InterfaceSource>? {
        guard let direct = map.map("direct", keys: Self.directKeys) else { return nil }
        let mode = direct.choice("mode", DirectMode.allCases)?.value ?? .vepa
        guard let device = direct.string("device", required: true) else { return nil }
        if let problem = Formats.bridgeProblem(device.value) {
            reporter.error(device.location, direct.keyPath("device"), problem.replacingFirst("bridge name ", with: "device name "))
            return nil
        }
        return Located(.direct(device: device.value, mode: mode), direct.location)
    }

    /// An interface's options (`bandwidth`, `mtu`, `queues`, `vlan`, `virtualport`, `portgroup`), with the
    /// combinations libvirt refuses reported at their keys. `source` is the interface's source
    /// (nil when it has none or a wrong one), `model` its NIC model.
    func readInterfaceOptions(_ map: MapReader, source: InterfaceSource?, model: String) -> InterfaceOptions? {
        var options = InterfaceOptions()
        if let bandwidth = map.map("bandwidth", keys: Self.bandwidthKeys) {
            options.bandwidth = InterfaceBandwidth(inbound: bandwidth.map("inbound", keys: Self.rateKeys).flatMap(readRate),
                                                   outbound: bandwidth.map("outbound", keys: Self.rateKeys).flatMap(readRate))
        }
        if let mtu = map.int("mtu", range: Self.mtuRange) {
            if case .direct? = source {
                // libvirt 9.0 refuses it when the domain is defined.
                reporter.error(mtu.location, map.keyPath("mtu"), "libvirt cannot set the MTU of a direct (macvtap) interface; set it on the host's device")
            } else {
                options.mtu = mtu.value
            }
        }
        if let queues = map.int("queues", range: Self.queueRange) {
            // libvirt's virtio models: virtio, virtio-transitional, virtio-non-transitional.
            if queues.value > 1, !model.hasPrefix("virtio") {
                reporter.error(queues.location, map.keyPath("queues"),
                               "several queues need the virtio model (QEMU's multiqueue NIC); this interface's model is \(model.quotedForMessage)")
            } else {
                options.queues = queues.value
            }
        }
        if let port = map.map("virtualport", keys: Self.virtualPortKeys) {
            options.virtualPort = readVirtualPort(port)
            var onBridge = false
            if case .bridge? = source { onBridge = true }
            if source != nil, !onBridge {
                reporter.error(map.keyLocation("virtualport"), map.keyPath("virtualport"),
                               "virtualport applies to a 'bridge' interface (an Open vSwitch bridge); a libvirt network brings its own")
            }
        }
        if let vlan = map.map("vlan", keys: Self.vlanKeys) {
            options.vlan = readVLAN(vlan)
            switch source {
            case .bridge? where options.virtualPort?.type != .openvswitch:
                reporter.error(map.keyLocation("vlan"), map.keyPath("vlan"),
                               "a VLAN on a bridge needs an Open vSwitch bridge (virtualport: {type: openvswitch}); a Linux bridge cannot tag a guest's traffic")
            case .direct(_, let mode)? where mode != .passthrough:
                reporter.error(map.keyLocation("vlan"), map.keyPath("vlan"),
                               "a VLAN on a direct interface needs mode: passthrough (an SR-IOV virtual function); macvtap \(mode.rawValue) cannot tag a guest's traffic")
            default:
                break
            }
        }
        if let group = map.string("portgroup") {
            if let problem = Formats.tokenProblem(group.value) {
                reporter.error(group.location, map.keyPath("portgroup"), "port group name \(problem)")
            } else if case .network? = source {
                options.portgroup = group.value
            } else if source != nil {
                reporter.error(map.keyLocation("portgroup"), map.keyPath("portgroup"),
                               "a port group belongs to a libvirt network: 'portgroup' needs 'network' (not 'bridge' or 'direct')")
            }
        }
        return options.isEmpty ? nil : options
    }

    func readRate(_ map: MapReader) -> BandwidthRate? {
        func kibibytes(_ key: String) -> ByteSize? {
            guard let size = map.size(key) else { return nil }
            if size.value.bytes % 1024 != 0 {
                reporter.error(size.location, map.keyPath(key), "libvirt shapes traffic in whole KiB: \(size.value.bytes) bytes is not a multiple of 1024")
                return nil
            }
            if size.value.bytes / 1024 > Self.maxBandwidthKiB {
                reporter.error(size.location, map.keyPath(key), "at most \(ByteSize.kib(Self.maxBandwidthKiB)) (libvirt counts KiB in 32 bits)")
                return nil
            }
            return size.value
        }
        let peak = kibibytes("peak"), burst = kibibytes("burst")
        guard let average = kibibytes("average") else {
            if !map.has("average") {
                reporter.error(map.location, map.keyPath("average"), "missing required key 'average' (libvirt shapes a direction by its average rate)")
            }
            return nil
        }
        if let peak, peak < average {
            reporter.error(map.keyLocation("peak"), map.keyPath("peak"), "peak (\(peak)/s) is below average (\(average)/s)")
        }
        return BandwidthRate(average: average, peak: peak, burst: burst)
    }

    func readVLAN(_ map: MapReader) -> InterfaceVLAN? {
        let trunk = map.bool("trunk") ?? false
        var tags: [Int] = []
        if let tag = map.int("tag", range: Self.vlanRange) {
            tags = [tag.value]
            if trunk {
                reporter.error(map.keyLocation("tag"), map.keyPath("tag"), "a trunk lists its VLANs in 'tags'; 'tag' is for a single VLAN")
            }
        }
        if let nodes = map.list("tags") {
            if map.has("tag") {
                reporter.error(map.keyLocation("tags"), map.keyPath("tags"), "give either 'tag' (one VLAN) or 'tags' (a trunk), not both")
            } else if !trunk {
                reporter.error(map.keyLocation("tags"), map.keyPath("tags"), "'tags' make a trunk: add 'trunk: true' (or give one VLAN with 'tag')")
            }
            for (index, node) in nodes.enumerated() {
                let location = node.location(in: file), path = "\(map.keyPath("tags"))[\(index)]"
                guard case .int(let id) = NodeValue(node) else {
                    reporter.error(location, path, "expected an integer, got \(NodeValue.describe(node))")
                    continue
                }
                if !Self.vlanRange.contains(id) {
                    reporter.error(location, path, "VLAN \(id) is out of range; expected \(Self.vlanRange.lowerBound)...\(Self.vlanRange.upperBound)")
                } else if tags.contains(id) {
                    reporter.error(location, path, "VLAN \(id) is listed twice")
                } else if !map.has("tag") {
                    tags.append(id)
                }
            }
            if nodes.isEmpty { reporter.error(map.keyLocation("tags"), map.keyPath("tags"), "a trunk needs at least one VLAN") }
        } else if trunk {
            reporter.error(map.keyLocation("trunk"), map.keyPath("tags"), "missing required key 'tags': the VLANs of the trunk")
        } else if !map.has("tag") {
            reporter.error(map.location, map.path, "a VLAN needs 'tag' (one VLAN) or 'trunk: true' with 'tags'")
        }
        let native = map.int("native", range: Self.vlanRange)
        let mode = map.choice("nativeMode", VLANNativeMode.allCases)
        if let native {
            if !trunk {
                reporter.error(native.location, map.keyPath("native"), "a native VLAN belongs to a trunk (trunk: true)")
            } else if !tags.contains(native.value), map.has("tags") {
                reporter.error(native.location, map.keyPath("native"), "native VLAN \(native.value) is not among the trunk's tags")
            }
        } else if let mode {
            reporter.error(mode.location, map.keyPath("nativeMode"), "nativeMode applies to the trunk's native VLAN: give 'native' too")
        }
        guard !tags.isEmpty else { return nil }
        return InterfaceVLAN(tags: tags, trunk: trunk, native: native?.value, nativeMode: mode?.value)
    }

    private func readVirtualPort(_ map: MapReader) -> VirtualPort? {
        let type = map.choice("type", VirtualPortType.allCases, required: true)
        var port = VirtualPort(type: type?.value ?? .openvswitch)
        if let id = map.string("interfaceId") {
            if let uuid = Formats.normalizedUUID(id.value) {
                port.interfaceId = uuid
            } else {
                reporter.error(id.location, map.keyPath("interfaceId"), "\(id.value.quotedForMessage) is not a UUID (the port's ID on the switch)")
            }
        }
        if let profile = map.string("profileId") {
            if let problem = Formats.tokenProblem(profile.value) {
                reporter.error(profile.location, map.keyPath("profileId"), "profileId \(problem)")
            } else {
                port.profileId = profile.value
            }
        }
        return type == nil ? nil : port
    }
}
