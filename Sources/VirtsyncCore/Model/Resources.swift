/// The kinds of libvirt resource virtsync manages.
public enum ResourceKind: String, Codable, Sendable, CaseIterable, Comparable {
    case pool, volume, network, domain
    /// A libvirt secret object holding the passphrase of an encrypted volume; named after the
    /// volume (`pool/volume`).
    case secret

    /// Order used for stable sorting and for rendering (dependencies first).
    var rank: Int {
        switch self {
        case .pool: return 0
        case .secret: return 1
        case .volume: return 2
        case .network: return 3
        case .domain: return 4
        }
    }

    public static func < (a: ResourceKind, b: ResourceKind) -> Bool { a.rank < b.rank }
}

/// Names a resource on a host. Volumes are named `pool/volume`.
public struct ResourceRef: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// What kind of resource.
    public var kind: ResourceKind
    /// The name of the host (as in the spec) the resource lives on.
    public var host: String
    /// The resource's name; `pool/volume` for volumes.
    public var name: String

    /// Creates a reference.
    public init(kind: ResourceKind, host: String, name: String) {
        self.kind = kind
        self.host = host
        self.name = name
    }

    public static func < (a: ResourceRef, b: ResourceRef) -> Bool {
        (a.host, a.kind.rank, a.name) < (b.host, b.kind.rank, b.name)
    }

    /// `domain web-1`, `volume default/web-1-root`.
    public var description: String { "\(kind.rawValue) \(name)" }
}

/// How a libvirt network connects its guests.
public enum NetworkMode: String, Codable, Sendable, CaseIterable {
    /// NAT to the host's uplink (libvirt `forward mode='nat'`).
    case nat
    /// Routed without NAT (`forward mode='route'`).
    case routed
    /// Routed without NAT and without any firewall rules from libvirt (`forward mode='open'`):
    /// the host's own firewall decides.
    case open
    /// No forwarding: guests reach each other and the host only.
    case isolated
    /// Attach to a bridge that already exists on the host (`forward mode='bridge'`).
    case bridge
}

/// A static DHCP entry.
public struct DHCPHost: Hashable, Codable, Sendable {
    public var mac: String
    public var ip: String
    public var name: String?
    public init(mac: String, ip: String, name: String? = nil) {
        self.mac = mac
        self.ip = ip
        self.name = name
    }
}

/// An IPv4 subnet served by a libvirt network.
public struct IPv4Config: Hashable, Codable, Sendable {
    /// The host's address on the network, e.g. `192.168.122.1`.
    public var address: String
    /// Prefix length, e.g. 24.
    public var prefix: Int
    /// First and last address of the DHCP range, when DHCP is on.
    public var dhcpStart: String?
    public var dhcpEnd: String?
    /// Static DHCP leases, sorted by MAC.
    public var hosts: [DHCPHost]

    public init(address: String, prefix: Int, dhcpStart: String? = nil, dhcpEnd: String? = nil, hosts: [DHCPHost] = []) {
        self.address = address
        self.prefix = prefix
        self.dhcpStart = dhcpStart
        self.dhcpEnd = dhcpEnd
        self.hosts = hosts.sorted { $0.mac < $1.mac }
    }
}

/// A libvirt virtual network, as desired or as observed.
public struct NetworkModel: Hashable, Codable, Sendable {
    public var name: String
    public var mode: NetworkMode
    /// The bridge device: the existing bridge for `bridge` mode; optional name for the others
    /// (`nil` lets libvirt choose and is then not compared).
    public var bridge: String?
    public var ipv4: IPv4Config?
    /// The IPv6 subnet and DHCPv6; `nil` when the spec leaves it out (then libvirt's is kept and
    /// never compared).
    public var ipv6: IPv6Config?
    /// DNS: the domain, host records, forwarders; `nil` when the spec leaves it out. Each part
    /// left out is libvirt's, never compared.
    public var dns: NetworkDNS?
    /// The MTU of the network's bridge and of the guests' tap devices on it (`<mtu size>`);
    /// `nil`: libvirt's, never compared.
    public var mtu: Int?
    /// The host device NAT or routed traffic leaves through (`<forward dev>`); `nil`: any
    /// (libvirt's routing table decides), never compared.
    public var uplink: String?
    /// Traffic shaping of the whole network, as seen from the host's bridge (`<bandwidth>`);
    /// `nil`: libvirt's, never compared.
    public var bandwidth: InterfaceBandwidth?
    /// Port groups, sorted by name; `nil`: libvirt's, never compared.
    public var portgroups: [NetworkPortgroup]?
    /// Start the network when the host boots.
    public var autostart: Bool
    /// Raw XML for what the model does not cover (`xml.network`): children of `<network>`.
    /// Compared with the definition's unowned elements (`ObservedNetwork.hatch`), never read back
    /// into this field.
    public var extraXML: String?

    public init(name: String, mode: NetworkMode, bridge: String? = nil, ipv4: IPv4Config? = nil, ipv6: IPv6Config? = nil,
                dns: NetworkDNS? = nil, mtu: Int? = nil, uplink: String? = nil, bandwidth: InterfaceBandwidth? = nil,
                portgroups: [NetworkPortgroup]? = nil, autostart: Bool = true, extraXML: String? = nil) {
        self.ipv6 = ipv6
        self.mtu = mtu
        self.uplink = uplink
        self.bandwidth = bandwidth
        self.portgroups = portgroups?.sorted { $0.name < $1.name }
        self.dns = dns
        self.extraXML = extraXML
        self.name = name
        self.mode = mode
        self.bridge = bridge
        self.ipv4 = ipv4
        self.autostart = autostart
    }
}

/// Storage pool types.
public enum PoolType: String, Codable, Sendable, CaseIterable {
    /// A directory on the host.
    case dir
    /// An LVM volume group.
    case logical
    /// An NFS export mounted by libvirt.
    case netfs
    /// A block device holding a file system, mounted by libvirt at the pool's path (never
    /// formatted by virtsync).
    case fs
    /// The LUNs of an iSCSI target, seen under `/dev/disk/by-path` once logged in; its volumes
    /// are the target's LUNs and cannot be created.
    case iscsi
    /// A Ceph RBD pool: volumes are RBD images, there is no target path.
    case rbd
    /// A ZFS pool: volumes are zvols, there is no target path.
    case zfs

    /// The types a spec may declare (every type of the model since spec format 1.1).
    public static let declarable: [PoolType] = [.dir, .logical, .netfs, .fs, .iscsi, .rbd, .zfs]

    /// Whether volumes are files in a directory (a dir pool, or a mounted file system).
    public var holdsFiles: Bool { self == .dir || self == .netfs || self == .fs }

    /// Whether libvirt gives the pool a target path (rbd and zfs pools have none).
    public var hasTargetPath: Bool { self != .rbd && self != .zfs }

    /// Whether volumes can be created in the pool (an iSCSI pool's volumes are the target's LUNs).
    public var createsVolumes: Bool { self != .iscsi }

    /// Whether volumes are block devices (raw only, no backing file, no LUKS).
    public var holdsBlockVolumes: Bool { self == .logical || self == .rbd || self == .zfs || self == .iscsi }

    /// The default target path of an iSCSI pool: its LUNs appear there once the host logs in.
    public static let iscsiPath = "/dev/disk/by-path"
}

/// A libvirt storage pool, as desired or as observed.
public struct PoolModel: Hashable, Codable, Sendable {
    public var name: String
    public var type: PoolType
    /// Target path: the directory (`dir`, mount point for `netfs`), `/dev/<vg>` (`logical`),
    /// `/dev/disk/by-path` (`iscsi`); empty for `rbd` and `zfs`.
    public var path: String
    /// `logical`: the volume group name (defaults to the pool name) and the physical devices.
    public var volumeGroup: String?
    /// The source devices: a logical pool's physical volumes, the block device of an `fs` pool,
    /// a ZFS pool's vdevs, an iSCSI target's IQN (libvirt's `<source><device path>`).
    public var devices: [String]
    /// `netfs`: the server and the exported directory; `iscsi`: the portal, `host` or `host:port`.
    public var sourceHost: String?
    public var sourceDir: String?
    /// `fs`: the file system's type (`ext4`, `xfs`; nil: libvirt probes it).
    public var sourceFormat: String?
    /// `rbd`, `zfs`: the Ceph or ZFS pool's name.
    public var sourceName: String?
    /// `rbd`: the Ceph monitors, `host` or `host:port`.
    public var sourceHosts: [String]?
    /// `iscsi`: the initiator's IQN (nil: the host's own).
    public var initiator: String?
    /// `iscsi` (CHAP), `rbd` (cephx): the user name and the secret object holding the key.
    public var auth: DiskAuth?
    public var autostart: Bool
    /// Raw XML for what the model does not cover (`xml.pool`): children of `<pool>`. Compared
    /// with the definition's unowned elements (`ObservedPool.hatch`), never read back into it.
    public var extraXML: String?

    public init(name: String, type: PoolType, path: String, volumeGroup: String? = nil, devices: [String] = [],
                sourceHost: String? = nil, sourceDir: String? = nil, sourceFormat: String? = nil, sourceName: String? = nil,
                sourceHosts: [String]? = nil, initiator: String? = nil, auth: DiskAuth? = nil, autostart: Bool = true,
                extraXML: String? = nil) {
        self.initiator = initiator
        self.auth = auth
        self.extraXML = extraXML
        self.sourceFormat = sourceFormat
        self.sourceName = sourceName
        self.sourceHosts = sourceHosts
        self.name = name
        self.type = type
        self.path = path
        self.volumeGroup = volumeGroup
        self.devices = devices
        self.sourceHost = sourceHost
        self.sourceDir = sourceDir
        self.autostart = autostart
    }
}

/// Disk image formats.
public enum VolumeFormat: String, Codable, Sendable, CaseIterable {
    case qcow2, raw, iso
}

/// Where a new volume's initial content comes from.
public enum VolumeSource: Hashable, Codable, Sendable {
    /// Empty (sparse) volume.
    case blank
    /// A qcow2 overlay whose backing file is another volume (`pool/volume`); the base is never written.
    case backing(pool: String, volume: String)
    /// A full copy of another volume, made once at creation.
    case clone(pool: String, volume: String)
    /// Content generated by virtsync (the cloud-init seed image); the digest names the content.
    case generated(digest: String)
    /// An OS image (a cloud image, an installer ISO) downloaded or read, verified by its
    /// SHA-256 and streamed into the volume. Observed volumes report it when virtsync's
    /// inventory records that the image arrived whole.
    case image(ImageSource)
}

/// A storage volume, as desired or as observed.
public struct VolumeModel: Hashable, Codable, Sendable {
    public var pool: String
    public var name: String
    /// The size; for a volume made from an image, `0` means "as large as the image" (the
    /// image's virtual size, known only once it is read).
    public var capacity: ByteSize
    public var format: VolumeFormat
    /// Creation-time source; observed volumes report `.backing` when they have a backing store
    /// inside a known pool and `.blank` otherwise.
    public var source: VolumeSource
    /// The payload of a generated volume (cloud-init seed ISO); not compared, not observed.
    public var content: [UInt8]?
    /// LUKS encryption: the UUID of the libvirt secret object holding the passphrase.
    public var encryption: String?
    /// For a volume made from an image: the verified local copy to upload. Set by the executor
    /// right before the create call; not compared, not encoded.
    public var localImage: LocalImage?

    public init(pool: String, name: String, capacity: ByteSize, format: VolumeFormat, source: VolumeSource = .blank, content: [UInt8]? = nil,
                encryption: String? = nil) {
        self.encryption = encryption
        self.pool = pool
        self.name = name
        self.capacity = capacity
        self.format = format
        self.source = source
        self.content = content
    }

    /// `pool/name`, the volume's resource name.
    public var key: String { "\(pool)/\(name)" }
}
