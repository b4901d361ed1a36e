/// Boot firmware.
public enum Firmware: String, Codable, Sendable, CaseIterable {
    case bios, uefi
}

/// How the guest CPU is presented.
public enum CPUMode: String, Codable, Sendable, CaseIterable {
    case hostPassthrough = "host-passthrough"
    case hostModel = "host-model"
    case maximum
    /// A named model (`cpu.model`), libvirt's `custom`.
    case custom
}

/// Desired power state of a VM; reconciled on every pass, not a create-time option.
public enum PowerState: String, Codable, Sendable, CaseIterable {
    case running, stopped
    /// Started, with its vCPUs suspended (`virDomainSuspend`); memory stays allocated.
    case paused
}

/// Disk bus types.
public enum DiskBus: String, Codable, Sendable, CaseIterable {
    case virtio, sata, scsi
    /// SCSI on a virtio-scsi controller (`<controller type='scsi' model='virtio-scsi'>`, index 0):
    /// TRIM/discard, many LUNs and an I/O thread for the controller. `scsi` leaves the controller
    /// model to libvirt (an emulated LSI one on x86).
    case virtioScsi = "virtio-scsi"
    case ide

    /// libvirt's `<target bus>`.
    public var libvirtBus: String { self == .virtioScsi ? "scsi" : rawValue }

    /// Whether the disk's I/O can run in one of the VM's I/O threads (`iothread`): a virtio disk
    /// by itself, a virtio-scsi disk through its controller.
    public var takesIOThread: Bool { self == .virtio || self == .virtioScsi }
}

/// What a disk's data is.
public enum DiskSource: Hashable, Codable, Sendable {
    /// A volume in a libvirt storage pool.
    case volume(pool: String, volume: String)
    /// A path on the host (for pre-existing images outside any pool).
    case file(path: String)
    /// A block device on the host (`<disk type='block'>`): a partition, an LV, a multipath device.
    case block(path: String)
    /// A disk served over the network (RBD, iSCSI, NBD).
    case network(NetworkDisk)
}

/// A disk or CD-ROM of a VM.
public struct DiskModel: Hashable, Codable, Sendable {
    /// Guest device name, e.g. `vda`, `sda`.
    public var target: String
    public var bus: DiskBus
    /// `true` for a CD-ROM.
    public var cdrom: Bool
    public var source: DiskSource
    public var readonly: Bool
    /// LUKS encryption of the volume: the UUID of the libvirt secret object that opens it.
    public var encryption: String?
    /// Cache, I/O mode, discard, serial, shareable and I/O limits; `nil` leaves them to libvirt.
    public var options: DiskOptions?

    public init(target: String, bus: DiskBus = .virtio, cdrom: Bool = false, source: DiskSource, readonly: Bool = false,
                encryption: String? = nil, options: DiskOptions? = nil) {
        self.options = options?.isEmpty == true ? nil : options
        self.encryption = encryption
        self.target = target
        self.bus = bus
        self.cdrom = cdrom
        self.source = source
        self.readonly = readonly
    }
}

/// Where a network interface is plugged in.
public enum InterfaceSource: Hashable, Codable, Sendable {
    /// A libvirt network by name.
    case network(String)
    /// An existing host bridge by name.
    case bridge(String)
    /// A host network device shared through macvtap (libvirt `type='direct'`).
    case direct(device: String, mode: DirectMode)
}

/// A VM's network interface.
public struct InterfaceModel: Hashable, Codable, Sendable {
    public var source: InterfaceSource
    /// Lower-case MAC; `nil` lets libvirt generate one, which is then kept and not compared.
    public var mac: String?
    /// Device model, e.g. `virtio`, `e1000`.
    public var model: String
    /// Link state; changed live.
    public var linkUp: Bool
    /// Bandwidth, MTU, queues, VLANs and virtual port; `nil` leaves them to libvirt.
    public var options: InterfaceOptions?

    public init(source: InterfaceSource, mac: String? = nil, model: String = "virtio", linkUp: Bool = true,
                options: InterfaceOptions? = nil) {
        self.options = options?.isEmpty == true ? nil : options
        self.source = source
        self.mac = mac?.lowercased()
        self.model = model
        self.linkUp = linkUp
    }
}

/// Remote display.
public enum GraphicsType: String, Codable, Sendable, CaseIterable {
    case none, vnc, spice
}

/// Raw libvirt XML for what the model does not cover (the escape hatch). Fragments are inserted
/// verbatim; they are compared by digest, recorded in the ownership marker.
public struct ExtraXML: Hashable, Codable, Sendable {
    /// Elements appended inside `<devices>`.
    public var devices: String?
    /// Elements appended inside `<domain>`.
    public var domain: String?

    public init(devices: String? = nil, domain: String? = nil) {
        self.devices = devices
        self.domain = domain
    }

    /// `true` when there is nothing to insert.
    public var isEmpty: Bool { (devices ?? "").isEmpty && (domain ?? "").isEmpty }

    /// A digest of the fragments, stable across runs.
    public var digest: String {
        isEmpty ? "" : Digest.sha256Hex(Array("devices:\(devices ?? "")\u{0}domain:\(domain ?? "")".utf8)).prefix(16).description
    }
}

/// A virtual machine, as desired (normalized from the spec) or as observed (parsed from libvirt's
/// persistent XML). Fields that the spec leaves open are `nil` and not compared.
public struct DomainModel: Hashable, Codable, Sendable {
    public var name: String
    /// Fixed UUID, when the spec gives one.
    public var uuid: String?
    public var vcpus: Int
    /// Maximum vCPUs (hot-plug ceiling); `nil` in a spec means "at least `vcpus`, keep what exists".
    public var maxVcpus: Int?
    /// Current memory (balloon target).
    public var memory: ByteSize
    /// Maximum memory; `nil` in a spec means "at least `memory`, keep what exists".
    public var maxMemory: ByteSize?
    /// Machine type, e.g. `q35` or `pc`; `nil` lets libvirt choose.
    public var machine: String?
    public var firmware: Firmware
    /// Firmware image path (e.g. qboot for tiny test guests); `nil` uses the default.
    public var loader: String?
    public var cpuMode: CPUMode?
    public var disks: [DiskModel]
    public var interfaces: [InterfaceModel]
    public var graphics: GraphicsType
    /// The VNC/SPICE password, a secret of the spec (`graphics.passwordSecret`).
    public var graphicsPassword: SecretMaterial?
    /// A serial console (`virsh console`).
    public var serialConsole: Bool
    public var autostart: Bool
    public var power: PowerState
    /// When an update needs a restart, may virtsync restart the VM (otherwise it is left pending)?
    public var restartForUpdates: Bool
    /// What the agent does when the VM stops without virtsync stopping it. Not a libvirt
    /// property: never in the XML, never compared; an observed domain has the default.
    public var restart: RestartPolicy
    public var extraXML: ExtraXML
    /// Boot order, kernel, Secure Boot, TPM and the other platform devices; empty when the
    /// spec manages none of them.
    public var platform = DomainPlatform()
    /// Guest CPU model, features, topology and pinning (see `DomainCPU`).
    public var cpu: DomainCPU = DomainCPU()
    /// Guest NUMA cells, numatune, huge pages and memory locking (see `DomainMemoryTuning`).
    public var memoryTuning: DomainMemoryTuning = DomainMemoryTuning()
    /// The address VNC/SPICE listen on; `nil` is left open (a new VM gets 127.0.0.1).
    public var graphicsListen: String?

    public init(name: String, uuid: String? = nil, vcpus: Int = 1, maxVcpus: Int? = nil,
                memory: ByteSize, maxMemory: ByteSize? = nil, machine: String? = nil,
                firmware: Firmware = .bios, loader: String? = nil, cpuMode: CPUMode? = nil,
                disks: [DiskModel] = [], interfaces: [InterfaceModel] = [],
                graphics: GraphicsType = .none, serialConsole: Bool = true, autostart: Bool = false,
                power: PowerState = .running, restartForUpdates: Bool = false, restart: RestartPolicy = RestartPolicy(),
                extraXML: ExtraXML = ExtraXML(), graphicsPassword: SecretMaterial? = nil,
                cpu: DomainCPU = DomainCPU(), memoryTuning: DomainMemoryTuning = DomainMemoryTuning(), graphicsListen: String? = nil) {
        self.graphicsPassword = graphicsPassword
        self.cpu = cpu
        self.memoryTuning = memoryTuning
        self.graphicsListen = graphicsListen
        self.name = name
        self.uuid = uuid
        self.vcpus = vcpus
        self.maxVcpus = maxVcpus
        self.memory = memory
        self.maxMemory = maxMemory
        self.machine = machine
        self.firmware = firmware
        self.loader = loader
        self.cpuMode = cpuMode
        self.disks = disks
        self.interfaces = interfaces
        self.graphics = graphics
        self.serialConsole = serialConsole
        self.autostart = autostart
        self.power = power
        self.restartForUpdates = restartForUpdates
        self.restart = restart
        self.extraXML = extraXML
    }
}
