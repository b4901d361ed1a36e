/// One host's desired resources, normalized and validated.
public struct DesiredHost: Hashable, Codable, Sendable {
    /// The host's name in the spec (`local` for the implicit host of a spec without hosts).
    public var name: String
    /// How to reach its libvirt; `nil` for the implicit host (the CLI decides).
    public var uri: String?
    /// How the other hosts' libvirt reaches this one for peer-to-peer migration (`migrationURI`,
    /// default `uri`).
    public var migrationURI: String?
    /// Declared capacity, for validation and placement.
    public var memoryCapacity: ByteSize?
    public var cpuCapacity: Int?
    /// Labels placement constraints match (`zone: a`).
    public var labels: [String: String]
    /// Marked for maintenance: drained, nothing new placed on it.
    public var maintenance: Bool
    public var networks: [NetworkModel]
    public var pools: [PoolModel]
    public var volumes: [VolumeModel]
    public var domains: [DomainModel]
    /// libvirt secret objects of this host's encrypted volumes.
    public var secretObjects: [SecretObjectModel] = []

    public init(name: String, uri: String? = nil, memoryCapacity: ByteSize? = nil, cpuCapacity: Int? = nil,
                networks: [NetworkModel] = [], pools: [PoolModel] = [], volumes: [VolumeModel] = [], domains: [DomainModel] = [],
                migrationURI: String? = nil, labels: [String: String] = [:], maintenance: Bool = false) {
        self.name = name
        self.uri = uri
        self.migrationURI = migrationURI
        self.memoryCapacity = memoryCapacity
        self.cpuCapacity = cpuCapacity
        self.labels = labels
        self.maintenance = maintenance
        self.networks = networks
        self.pools = pools
        self.volumes = volumes
        self.domains = domains
    }
}

/// Settings of the spec that steer planning.
public struct SpecSettings: Hashable, Codable, Sendable {
    /// Remove managed resources that are no longer in the spec.
    public var prune: Bool
    /// Refuse a plan that would delete more than this share (0...1) of the managed resources.
    public var maxDeleteFraction: Double
    /// Delete a removed VM's volumes with it (otherwise they are kept).
    public var deleteVolumesWithVM: Bool

    /// Live migration limits and options.
    public var migration: MigrationSettings
    /// The owner the spec declares (`Settings.owner`); `nil` lets the frontend derive one from
    /// where the spec comes from.
    public var owner: String?

    public init(prune: Bool = false, maxDeleteFraction: Double = 0.5, deleteVolumesWithVM: Bool = false,
                migration: MigrationSettings = MigrationSettings(), owner: String? = nil) {
        self.migration = migration
        self.owner = owner
        self.prune = prune
        self.maxDeleteFraction = maxDeleteFraction
        self.deleteVolumesWithVM = deleteVolumesWithVM
    }
}

/// The whole desired state: every host's resources, the settings and a digest of the spec.
public struct DesiredState: Hashable, Codable, Sendable {
    public var hosts: [DesiredHost]
    public var settings: SpecSettings
    /// SHA-256 of the spec files (names and contents), the plan's basis and the ownership marker.
    public var specDigest: String
    /// The git commit the spec was read from, when it came from git.
    public var commit: String?
    /// The VMs of a spec with several hosts, pinned or not: `ClusterPlacement` (run by the
    /// planner, once the cluster was read) puts each on a host's `domains`. Empty for a
    /// single-host spec, whose VMs are on its one host already.
    public var machines: [ClusterMachine]
    /// Pools whose storage every host of the pool sees (`shared: true`): a disk in them needs
    /// no copy when its VM migrates.
    public var sharedPools: Set<String>
    /// The spec source's owner identity, written into every marker and inventory entry; only
    /// what carries it is changed or removed. Set by the frontend (`Settings.owner`, or derived
    /// from the repository and path, or the spec directory); `nil` only in tests of the core.
    public var owner: String?
    /// Existing resources the spec takes over (`adopt: true`): one that is unmanaged, or was
    /// written without an owner, gets an `adopt` step instead of a warning.
    public var adopt: Set<AdoptKey>
    /// The spec's `kind: Secret` documents by name.
    public var secrets: [String: SecretReference] = [:]
    /// VMs whose secrets are still to be read on the host, by name: held until `SecretBinder`
    /// binds them.
    public var pendingSecrets: [String: PendingSecrets] = [:]
    /// Resources no step may touch, with the reason (a VM whose secrets could not be read).
    public var held: [HeldResource] = []
    /// Encrypted volumes whose passphrase is still to be read, by `pool/volume`.
    public var pendingVolumeSecrets: [String: SecretUse] = [:]

    public init(hosts: [DesiredHost], settings: SpecSettings = SpecSettings(), specDigest: String, commit: String? = nil,
                machines: [ClusterMachine] = [], sharedPools: Set<String> = [], owner: String? = nil, adopt: Set<AdoptKey> = []) {
        self.owner = owner
        self.adopt = adopt
        self.machines = machines
        self.sharedPools = sharedPools
        self.hosts = hosts
        self.settings = settings
        self.specDigest = specDigest
        self.commit = commit
    }

    /// The host with this name.
    public func host(named name: String) -> DesiredHost? { hosts.first { $0.name == name } }
}

/// A resource a spec adopts: its kind and name (`pool/volume` for a volume).
public struct AdoptKey: Hashable, Codable, Sendable, Comparable {
    public var kind: ResourceKind
    public var name: String

    public init(_ kind: ResourceKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static func < (a: AdoptKey, b: AdoptKey) -> Bool { (a.kind.rawValue, a.name) < (b.kind.rawValue, b.name) }
}
