/// libvirt's view of a domain's run state.
public enum RunState: String, Codable, Sendable {
    case running, paused, shutoff, crashed, other

    /// `true` when the VM holds resources (running or paused).
    public var isActive: Bool { self == .running || self == .paused }
}

/// Why libvirt says a domain that is not active stopped: its `virDomainState` reason for a
/// shut-off domain (a domain in libvirt's crashed state is `crashed`).
public enum StopReason: String, Codable, Sendable, CaseIterable {
    /// libvirt does not know (e.g. defined and never started).
    case unknown
    /// The guest shut down (ACPI, or from inside).
    case shutdown
    /// Destroyed (`virsh destroy`, or virtsync's stop after the shutdown timeout).
    case destroyed
    /// The guest crashed.
    case crashed
    /// It failed to start or to keep running (e.g. the emulator died).
    case failed
    /// Migrated to another host.
    case migrated
    /// Saved to a file (`virsh save`, managed save).
    case saved
    /// Reverted to a snapshot of a stopped domain.
    case fromSnapshot = "from-snapshot"
    /// The daemon stopped it (e.g. while starting up).
    case daemon
    /// A reason this version of virtsync does not name.
    case other
}

/// Values of a running domain that can differ from its persistent definition.
public struct LiveDomainValues: Hashable, Codable, Sendable {
    public var memory: ByteSize
    public var maxMemory: ByteSize
    public var vcpus: Int
    public var maxVcpus: Int
    /// Link state per interface MAC (lower-case).
    public var linkUp: [String: Bool]
    /// The vCPU pins the running guest has (`<cputune>` of its live XML); a vCPU not listed
    /// runs on any host CPU.
    public var vcpuPins: [VCPUPin] = []
    /// The running guest's emulator pin, when it has one.
    public var emulatorPin: CPUSet?
    /// Traffic shaping per interface MAC (lower-case); an interface of `linkUp` that is not
    /// listed is not shaped.
    public var bandwidth: [String: InterfaceBandwidth] = [:]

    public init(memory: ByteSize, maxMemory: ByteSize, vcpus: Int, maxVcpus: Int, linkUp: [String: Bool] = [:],
                vcpuPins: [VCPUPin] = [], emulatorPin: CPUSet? = nil, bandwidth: [String: InterfaceBandwidth] = [:]) {
        self.bandwidth = bandwidth
        self.vcpuPins = vcpuPins
        self.emulatorPin = emulatorPin
        self.memory = memory
        self.maxMemory = maxMemory
        self.vcpus = vcpus
        self.maxVcpus = maxVcpus
        self.linkUp = linkUp
    }
}

/// A domain as libvirt reports it.
public struct ObservedDomain: Hashable, Codable, Sendable {
    /// The persistent definition parsed into the model (`power`, `restartForUpdates` and
    /// `restart` are not observable and are left at their defaults; `autostart` is read from
    /// libvirt).
    public var model: DomainModel
    public var uuid: String
    public var state: RunState
    /// `nil` when the domain is not running.
    public var live: LiveDomainValues?
    /// `nil` when virtsync did not create the domain: such a domain is never touched.
    public var marker: OwnershipMarker?
    /// A transient domain (no persistent definition).
    public var persistent: Bool
    /// Why the domain stopped, for one that is not active; `nil` when it is active or the
    /// reason was not read.
    public var stopReason: StopReason?
    /// virtsync stopped this domain on purpose (a `stop` step) and has not started it since.
    /// Only ever `true` for a domain that is not active.
    public var stoppedByVirtsync: Bool
    /// The raw XML at the paths the marker records (`nil`: none recorded).
    public var hatch: ObservedHatch?

    public init(model: DomainModel, uuid: String, state: RunState, live: LiveDomainValues? = nil,
                marker: OwnershipMarker? = nil, persistent: Bool = true, stopReason: StopReason? = nil,
                stoppedByVirtsync: Bool = false, hatch: ObservedHatch? = nil) {
        self.hatch = hatch
        self.model = model
        self.uuid = uuid
        self.state = state
        self.live = live
        self.marker = marker
        self.persistent = persistent
        self.stopReason = stopReason
        self.stoppedByVirtsync = stoppedByVirtsync
    }
}

/// A network as libvirt reports it.
public struct ObservedNetwork: Hashable, Codable, Sendable {
    public var model: NetworkModel
    public var uuid: String
    public var active: Bool
    /// Filled in from the inventory by the engine: virtsync created (or adopted) it.
    public var managed: Bool
    /// The owner the inventory records for it (`nil`: recorded before owners existed).
    public var owner: String?
    /// The unowned elements of its definition, and the raw XML paths the inventory records.
    public var hatch: ObservedHatch?

    public init(model: NetworkModel, uuid: String, active: Bool, managed: Bool = false, owner: String? = nil, hatch: ObservedHatch? = nil) {
        self.hatch = hatch
        self.model = model
        self.uuid = uuid
        self.active = active
        self.managed = managed
        self.owner = owner
    }
}

/// A storage pool as libvirt reports it.
public struct ObservedPool: Hashable, Codable, Sendable {
    public var model: PoolModel
    public var uuid: String
    public var active: Bool
    public var managed: Bool
    /// The owner the inventory records for it.
    public var owner: String?
    /// The unowned elements of its definition, and the raw XML paths the inventory records.
    public var hatch: ObservedHatch?

    public init(model: PoolModel, uuid: String, active: Bool, managed: Bool = false, owner: String? = nil, hatch: ObservedHatch? = nil) {
        self.hatch = hatch
        self.model = model
        self.uuid = uuid
        self.active = active
        self.managed = managed
        self.owner = owner
    }
}

/// A volume as libvirt reports it.
public struct ObservedVolume: Hashable, Codable, Sendable {
    public var model: VolumeModel
    /// The volume's path on the host.
    public var path: String
    public var managed: Bool
    /// Filled in from the inventory: the create call was made but never confirmed (an apply
    /// was interrupted), so a copied or uploaded content may be incomplete.
    public var unconfirmed: Bool
    /// The owner the inventory records for it.
    public var owner: String?
    /// The SHA-256 of the image the volume was made from, when virtsync's inventory records
    /// that the image arrived whole (libvirt cannot tell).
    public var imageDigest: String?

    public init(model: VolumeModel, path: String, managed: Bool = false, unconfirmed: Bool = false, owner: String? = nil,
                imageDigest: String? = nil) {
        self.imageDigest = imageDigest
        self.model = model
        self.path = path
        self.managed = managed
        self.unconfirmed = unconfirmed
        self.owner = owner
    }
}

/// Everything observed on one host. Volumes are listed only for active pools.
public struct ObservedHost: Hashable, Codable, Sendable {
    public var name: String
    public var networks: [String: ObservedNetwork]
    public var pools: [String: ObservedPool]
    /// Keyed by `pool/volume`.
    public var volumes: [String: ObservedVolume]
    public var domains: [String: ObservedDomain]
    /// libvirt secret objects, by UUID (all of them: virtsync's carry its marker).
    public var secretObjects: [String: ObservedSecretObject] = [:]
    /// The host's own facts (architecture, CPU, memory), when read.
    public var facts: HostFacts?

    public init(name: String, networks: [String: ObservedNetwork] = [:], pools: [String: ObservedPool] = [:],
                volumes: [String: ObservedVolume] = [:], domains: [String: ObservedDomain] = [:], facts: HostFacts? = nil) {
        self.facts = facts
        self.name = name
        self.networks = networks
        self.pools = pools
        self.volumes = volumes
        self.domains = domains
    }
}

/// The live state of every host, or why a host could not be read.
public struct ObservedState: Hashable, Codable, Sendable {
    public var hosts: [String: ObservedHost]
    /// Hosts that could not be read, with the reason. Their state is unknown, never "empty".
    public var unreachable: [String: String]
    /// Unreachable hosts known dead (HA: their lease expired, so they fenced or were reset), with
    /// the names of the VMs each held as it last published them. Empty without HA.
    public var dead: [String: Set<String>]

    public init(hosts: [String: ObservedHost] = [:], unreachable: [String: String] = [:], dead: [String: Set<String>] = [:]) {
        self.hosts = hosts
        self.unreachable = unreachable
        self.dead = dead
    }

    private enum CodingKeys: String, CodingKey { case hosts, unreachable, dead }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hosts = try container.decode([String: ObservedHost].self, forKey: .hosts)
        unreachable = try container.decode([String: String].self, forKey: .unreachable)
        dead = try container.decodeIfPresent([String: Set<String>].self, forKey: .dead) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(unreachable, forKey: .unreachable)
        if !dead.isEmpty { try container.encode(dead, forKey: .dead) }
    }
}
