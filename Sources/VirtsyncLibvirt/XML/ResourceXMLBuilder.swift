import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// The definition of a libvirt network.
    /// - Parameter uuid: the existing network's UUID when redefining it (libvirt refuses a new
    ///   definition with the same name and another UUID).
    public static func network(_ model: NetworkModel, uuid: String? = nil) -> String {
        var network = XElement("network")
        network.append(XElement("name", text: model.name))
        if let uuid { network.append(XElement("uuid", text: uuid)) }
        if let forward = forwardElement(model) { network.append(forward) }
        if let bridge = model.bridge { network.append(XElement("bridge", [("name", bridge)])) }
        if let mtu = model.mtu { network.append(XElement("mtu", [("size", String(mtu))])) }
        if let bandwidth = model.bandwidth, !bandwidth.isEmpty { network.append(bandwidthElement(bandwidth)) }
        if let ip = model.ipv4 {
            var element = XElement("ip", [("address", ip.address), ("prefix", String(ip.prefix))])
            if ip.dhcpStart != nil || ip.dhcpEnd != nil || !ip.hosts.isEmpty {
                var dhcp = XElement("dhcp")
                if let start = ip.dhcpStart, let end = ip.dhcpEnd {
                    dhcp.append(XElement("range", [("start", start), ("end", end)]))
                }
                for host in ip.hosts {
                    var attributes = [("mac", host.mac)]
                    if let name = host.name { attributes.append(("name", name)) }
                    attributes.append(("ip", host.ip))
                    dhcp.append(XElement("host", attributes))
                }
                element.append(dhcp)
            }
            network.append(element)
        }
        if let ipv6 = model.ipv6 { network.append(ipv6Element(ipv6)) }
        for element in model.dns.map(dnsElements) ?? [] { network.append(element) }
        for group in model.portgroups ?? [] { network.append(portgroupElement(group)) }
        applyHatch(Hatch.leaves(model.extraXML, in: .network), recorded: [], document: .network, keepMatching: false, to: &network)
        return network.serialized()
    }

    /// The definition of a storage pool.
    /// - Parameter uuid: the existing pool's UUID when redefining it.
    public static func pool(_ model: PoolModel, uuid: String? = nil) -> String {
        var pool = XElement("pool", [("type", model.type.rawValue)])
        pool.append(XElement("name", text: model.name))
        if let uuid { pool.append(XElement("uuid", text: uuid)) }
        switch model.type {
        case .dir:
            break
        case .logical:
            var source = XElement("source")
            for device in model.devices { source.append(XElement("device", [("path", device)])) }
            source.append(XElement("name", text: model.volumeGroup ?? model.name))
            pool.append(source)
        case .netfs:
            var source = XElement("source")
            if let host = model.sourceHost { source.append(XElement("host", [("name", host)])) }
            if let dir = model.sourceDir { source.append(XElement("dir", [("path", dir)])) }
            source.append(XElement("format", [("type", "auto")]))
            pool.append(source)
        case .fs:
            var source = XElement("source")
            for device in model.devices { source.append(XElement("device", [("path", device)])) }
            source.append(XElement("format", [("type", model.sourceFormat ?? "auto")]))
            pool.append(source)
        case .iscsi:
            var source = XElement("source")
            if let host = model.sourceHost { source.append(serverElement(host)) }
            for device in model.devices { source.append(XElement("device", [("path", device)])) }
            if let auth = model.auth { source.append(authElement(auth)) }
            if let initiator = model.initiator {
                source.append(XElement("initiator", children: [.element(XElement("iqn", [("name", initiator)]))]))
            }
            pool.append(source)
        case .rbd:
            var source = XElement("source")
            if let name = model.sourceName { source.append(XElement("name", text: name)) }
            for host in model.sourceHosts ?? [] { source.append(serverElement(host)) }
            if let auth = model.auth { source.append(authElement(auth)) }
            pool.append(source)
        case .zfs:
            var source = XElement("source")
            if let name = model.sourceName { source.append(XElement("name", text: name)) }
            for device in model.devices { source.append(XElement("device", [("path", device)])) }
            pool.append(source)
        }
        // RBD and ZFS pools have no target path in libvirt.
        if !model.path.isEmpty || model.type.hasTargetPath {
            pool.append(XElement("target", children: [.element(XElement("path", text: model.path))]))
        }
        applyHatch(Hatch.leaves(model.extraXML, in: .pool), recorded: [], document: .pool, keepMatching: false, to: &pool)
        return pool.serialized()
    }

    /// The backing store of a new overlay volume.
    public struct BackingStore: Hashable, Sendable {
        /// Path of the base volume on the host.
        public var path: String
        /// Format of the base volume.
        public var format: VolumeFormat

        /// Creates a backing store reference.
        public init(path: String, format: VolumeFormat) {
            self.path = path
            self.format = format
        }
    }

    /// `<host name port>` of a pool's source, from `host`, `host:port` or `[IPv6]:port`.
    static func serverElement(_ text: String) -> XElement {
        let (name, port) = NetworkDiskHosts.split(text)
        return XElement("host", port.map { [("name", name), ("port", $0)] } ?? [("name", name)])
    }

    /// A pool's `<auth>`: CHAP for iSCSI, cephx for RBD, naming the secret object by UUID (a
    /// pool observed with a secret named by usage has no UUID, and renders none).
    static func authElement(_ auth: DiskAuth) -> XElement {
        var element = XElement("auth", [("type", auth.secretType == "iscsi" ? "chap" : "ceph"), ("username", auth.username)])
        if !auth.secretUUID.isEmpty { element.append(XElement("secret", [("uuid", auth.secretUUID)])) }
        return element
    }

    /// The definition of a new volume.
    ///
    /// An `iso` volume is created as `raw`: QEMU cannot create an "iso" image, and libvirt
    /// reports the format as `iso` again once the uploaded content is probed. Volumes in a
    /// logical pool get no format (a logical volume is raw).
    /// - Parameters:
    ///   - poolType: the type of the pool the volume is created in.
    ///   - backing: the base volume of a `.backing` overlay, resolved to its path.
    public static func volume(_ model: VolumeModel, poolType: PoolType = .dir, backing: BackingStore? = nil) -> String {
        var volume = XElement("volume")
        volume.append(XElement("name", text: model.name))
        volume.append(XElement("capacity", [("unit", "bytes")], text: String(model.capacity.bytes)))
        // Block volumes (LVM, RBD images, zvols) have no format of their own.
        if !poolType.holdsBlockVolumes {
            let format = model.format == .iso ? VolumeFormat.raw : model.format
            var target = XElement("target", children: [.element(XElement("format", [("type", format.rawValue)]))])
            if let uuid = model.encryption { target.append(encryptionElement(uuid)) }
            volume.append(target)
            if let backing {
                let format = backing.format == .iso ? VolumeFormat.raw : backing.format
                volume.append(XElement("backingStore", children: [
                    .element(XElement("path", text: backing.path)),
                    .element(XElement("format", [("type", format.rawValue)])),
                ]))
            }
        }
        return volume.serialized()
    }
}
