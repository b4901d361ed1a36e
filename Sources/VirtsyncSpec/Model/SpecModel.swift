import VirtsyncCore

// The spec as written: one value per document, every field optional where the user may have
// left it out or written it wrong (the problem is reported, the rest is still checked), each
// with the position needed by later, cross-document diagnostics.

/// The kinds of spec document.
enum DocumentKind: String, CaseIterable, Sendable {
    case host = "Host"
    case network = "Network"
    case storagePool = "StoragePool"
    case virtualMachine = "VirtualMachine"
    case settings = "Settings"
    case secret = "Secret"
}

/// What every document has: its kind, name and place.
struct DocumentHeader: Sendable {
    var kind: DocumentKind
    var name: Located<String>?
    /// Where the document's root mapping starts.
    var location: SourceLocation
    /// `Kind[name]`, the prefix of every key path in the document.
    var path: String
}

/// A `pool/volume` reference.
struct VolumeRef: Hashable, Sendable, CustomStringConvertible {
    var pool: String
    var volume: String
    var description: String { "\(pool)/\(volume)" }
}

/// kind: Host.
struct HostSpec: Sendable {
    var header: DocumentHeader
    var uri: Located<String>?
    var migrationURI: Located<String>?
    var labels: [String: String] = [:]
    var maintenance: Bool?
    var memoryCapacity: Located<ByteSize>?
    var cpuCapacity: Located<Int>?
    /// `hugepageSizes`: the huge page sizes the host offers, when declared.
    var hugepageSizes: [Located<ByteSize>]?
}

/// `ipv4.dhcp.hosts[]` of a network.
struct DHCPHostSpec: Sendable {
    var path: String
    var mac: Located<String>?
    var ip: Located<String>?
    var name: Located<String>?
}

/// `ipv4` of a network, with the address already split.
struct IPv4Spec: Sendable {
    var path: String
    var location: SourceLocation
    var address: Located<String>?
    /// Parsed host address and prefix, when `address` is valid.
    var hostAddress: UInt32?
    var prefix: Int?
    var dhcpStart: Located<String>?
    var dhcpEnd: Located<String>?
    var dhcpHosts: [DHCPHostSpec]
}

/// `ipv6.dhcp.ranges[]` of a network.
struct DHCPv6RangeSpec: Sendable {
    var start: Located<String>
    var end: Located<String>
}

/// `ipv6.dhcp.hosts[]` of a network.
struct DHCPv6HostSpec: Sendable {
    var id: Located<String>?
    var name: Located<String>?
    var ip: Located<String>
}

/// `ipv6` of a network, with the address already split and checked.
struct IPv6Spec: Sendable {
    /// The key path of `ipv6.address` and where its value is.
    var addressPath: String
    var addressLocation: SourceLocation
    var address: IPv6Address
    var prefix: Int
    var ranges: [DHCPv6RangeSpec]
    var hosts: [DHCPv6HostSpec]
}

/// kind: Network.
struct NetworkSpec: Sendable {
    var header: DocumentHeader
    var hosts: [Located<String>]?
    var hostsLocation: SourceLocation
    var mode: NetworkMode?
    var bridge: Located<String>?
    var autostart: Bool?
    var ipv4: IPv4Spec?
    /// `ipv6`, when given and its address is valid.
    var ipv6: IPv6Spec?
    /// `dns`, as far as it is valid.
    var dns: NetworkDNS?
    /// `mtu`, when valid.
    var mtu: Int?
    /// `uplink`, when valid for the mode.
    var uplink: Located<String>?
    /// `bandwidth`, as far as it is valid.
    var bandwidth: InterfaceBandwidth?
    /// `portgroups`, the valid ones (nil: the key is left out).
    var portgroups: [Located<NetworkPortgroup>]?
    /// `adopt: true`: take over the existing network of this name.
    var adopt = false
    /// `xml.network`: raw XML for what the model does not cover.
    var xml: Located<String>?
}

/// A volume declared in a pool.
struct PoolVolumeSpec: Sendable {
    var path: String
    var location: SourceLocation
    var name: Located<String>?
    var size: Located<ByteSize>?
    var format: Located<VolumeFormat>?
    var backing: Located<VolumeRef>?
    var clone: Located<VolumeRef>?
    /// `adopt: true`: take over the existing volume of this name.
    var adopt = false
    /// `encryptionSecret`: LUKS-encrypted with this secret as its passphrase.
    var encryptionSecret: Located<String>?
    /// `image`: made from an OS image (URL or file, with its SHA-256).
    var image: Located<ImageSource>?
}

/// kind: StoragePool.
struct PoolSpec: Sendable {
    var header: DocumentHeader
    var hosts: [Located<String>]?
    var hostsLocation: SourceLocation
    var type: PoolType?
    var path: Located<String>?
    var volumeGroup: Located<String>?
    var devices: [Located<String>]
    var sourceHost: Located<String>?
    var sourceDir: Located<String>?
    /// `fs`: the file system's type.
    var sourceFormat: Located<String>?
    /// `rbd`: the Ceph pool; `zfs`: the zpool.
    var sourceName: Located<String>?
    /// `rbd`: the monitors, `host` or `host:port`.
    var monitors: [String] = []
    /// `iscsi`: the initiator's IQN.
    var initiator: Located<String>?
    /// `iscsi`, `rbd`: `source.auth.username`.
    var authUsername: Located<String>?
    /// `iscsi`, `rbd`: `source.auth.secret`, the name of a Secret document.
    var authSecret: Located<String>?
    var autostart: Bool?
    var volumes: [PoolVolumeSpec]
    /// `adopt: true`: take over the existing pool of this name.
    var adopt = false
    /// Every host of the pool sees the same storage (`shared: true`).
    var shared: Bool?
    /// `xml.pool`: raw XML for what the model does not cover.
    var xml: Located<String>?
}

/// A disk of a VM.
struct DiskSpec: Sendable {
    var path: String
    var location: SourceLocation
    var volume: Located<VolumeRef>?
    var file: Located<String>?
    /// A block device on the host.
    var block: Located<String>?
    /// A disk over the network (rbd, iscsi, nbd).
    var network: NetworkDiskSpec?
    var size: Located<ByteSize>?
    /// `size` is written (even if invalid): the disk creates its volume.
    var createsVolume: Bool
    var format: Located<VolumeFormat>?
    var backing: Located<VolumeRef>?
    var clone: Located<VolumeRef>?
    var bus: DiskBus?
    var target: Located<String>?
    var cdrom: Bool
    var readonly: Bool?
    var existing: Bool
    /// Cache, I/O mode, discard, serial, shareable, I/O limits, I/O thread.
    var options: DiskOptions?
    /// Where `iothread` is written (its value is in `options`).
    var iothreadAt: SourceLocation?
    /// Where `bus` is written.
    var busAt: SourceLocation?
}

/// `network:` of a disk: the protocol, the image or LUN, the servers, and the Secret that holds
/// the key (with the user it is for).
struct NetworkDiskSpec: Sendable {
    var `protocol`: NetworkDiskProtocol
    var name: String?
    var hosts: [String]
    var username: String?
    var secret: Located<String>?
    var location: SourceLocation
}

/// An interface of a VM.
struct InterfaceSpec: Sendable {
    var path: String
    var location: SourceLocation
    var network: Located<String>?
    var bridge: Located<String>?
    /// `direct: {device, mode}`: a host device through macvtap.
    var direct: Located<InterfaceSource>?
    var mac: Located<String>?
    var model: Located<String>?
    var linkUp: Bool
    /// Bandwidth, MTU, queues, VLANs, virtual port, port group.
    var options: InterfaceOptions?
    /// `portgroup`, where it was written (checked against the network's groups).
    var portgroup: Located<String>?
}

/// Inline content, a file of the spec directory, or a secret, for one cloud-init file. Inline
/// and file content may name secrets with `((secret:NAME))`.
enum CloudInitContent: Sendable {
    case inline(String, at: SourceLocation)
    case file(Located<String>)
    /// `…Secret: NAME`: the whole file is the secret's value.
    case secret(Located<String>)
}

/// kind: Secret.
struct SecretSpec: Sendable {
    var header: DocumentHeader
    /// An age-encrypted file of the spec directory.
    var ageFile: Located<String>?
    /// A path under the host's secrets directory.
    var hostFile: Located<String>?
}

/// `cloudInit` of a VM.
struct CloudInitSpec: Sendable {
    var path: String
    var location: SourceLocation
    var userData: CloudInitContent?
    var metaData: CloudInitContent?
    var networkConfig: CloudInitContent?
    var pool: Located<String>?
}

/// kind: VirtualMachine.
struct MachineSpec: Sendable {
    var header: DocumentHeader
    var host: Located<String>?
    /// `host` is written, even if invalid (then it is not "missing").
    var hostWritten = false
    /// `placement`: constraints for a VM without `host`.
    var placement: PlacementSpec?
    var onMaintenance: MaintenancePolicy?
    var ha: Bool?
    /// `failback`, located at its key (a warning points there when the VM is not HA).
    var failback: Located<Bool>?
    var uuid: Located<String>?
    var vcpus: Located<Int>?
    var maxVcpus: Located<Int>?
    var memory: Located<ByteSize>?
    var maxMemory: Located<ByteSize>?
    var machine: Located<String>?
    var firmware: Firmware?
    var loader: Located<String>?
    var cpu: CPUMode?
    var power: PowerState?
    var autostart: Bool?
    var restartForUpdates: Bool?
    var restartPolicy: RestartPolicy.Mode?
    var maxRestarts: Int?
    /// `restartWindow`, in seconds.
    var restartWindow: Double?
    var graphics: GraphicsType?
    /// `graphics.passwordSecret`.
    var graphicsPassword: Located<String>?
    var console: Bool?
    var disks: [DiskSpec]
    var interfaces: [InterfaceSpec]
    var cloudInit: CloudInitSpec?
    var xmlDevices: String?
    var xmlDomain: String?
    /// Where `xml.devices` and `xml.domain` are, for their secret-object placeholders.
    var xmlDevicesAt: SourceLocation?
    var xmlDomainAt: SourceLocation?
    /// `adopt: true`: take over the existing domain of this name.
    var adopt = false
    /// Boot, firmware and platform devices (`boot`, `kernel`, `tpm`, ...).
    var platform = DomainPlatform()
    /// Where `hostDevices` is written, when it names at least one device.
    var hostDevicesAt: SourceLocation?
    /// Where `boot.order` is written.
    var bootOrderAt: SourceLocation?
    /// `cpu.model`, `cpu.features`, `cpu.topology`, `cpu.pinning` (mode is `cpu` above).
    var cpuTuning = DomainCPU()
    /// `numa` and `memoryBacking`.
    var memoryTuning = DomainMemoryTuning()
    /// Where `memoryBacking.hugepages` gives a size, for the check against the host's sizes.
    var hugepageSizeAt: SourceLocation?
    /// `graphics.listen`.
    var graphicsListen: Located<String>?
}

/// `placement` of a VM.
struct PlacementSpec: Sendable {
    var path: String
    var location: SourceLocation
    var hosts: [Located<String>]?
    var labels: [String: String] = [:]
    var affinity: [Located<String>] = []
    var antiAffinity: [Located<String>] = []
}

/// kind: Settings.
struct SettingsSpec: Sendable {
    var header: DocumentHeader
    var prune: Bool?
    var maxDeletePercent: Int?
    var deleteVolumesWithVM: Bool?
    var migration: MigrationSettings?
    var owner: Located<String>?
}

/// Every document of a spec, in file order.
struct ClusterSpec: Sendable {
    var hosts: [HostSpec] = []
    var networks: [NetworkSpec] = []
    var pools: [PoolSpec] = []
    var machines: [MachineSpec] = []
    var settings: [SettingsSpec] = []
    var secrets: [SecretSpec] = []
    /// Number of non-empty documents read, whatever their kind.
    var documentCount = 0
    /// A file could not be parsed: some documents are missing, so references are not checked.
    var incomplete = false
}
