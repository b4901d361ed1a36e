/// One host's desired resources, normalized and validated.
public struct DesiredHost: Hashable, Codable, Sendable {
    /// The host's name in the spec (`local` for the implicit host of a spec without hosts).
    public var name: String
    /// How to reach its libvirt; `nil` for the implicit host (the CLI decides).
    public var uri: String?
    /// Declared capacity, for validation.
    public var memoryCapacity: ByteSize?
    public var cpuCapacity: Int?
    public var networks: [NetworkModel]
    public var pools: [PoolModel]
    public var volumes: [VolumeModel]
    public var domains: [DomainModel]

    public init(name: String, uri: String? = nil, memoryCapacity: ByteSize? = nil, cpuCapacity: Int? = nil,
                networks: [NetworkModel] = [], pools: [PoolModel] = [], volumes: [VolumeModel] = [], domains: [DomainModel] = []) {
        self.name = name
        self.uri = uri
        self.memoryCapacity = memoryCapacity
        self.cpuCapacity = cpuCapacity
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

    public init(prune: Bool = false, maxDeleteFraction: Double = 0.5, deleteVolumesWithVM: Bool = false) {
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

    public init(hosts: [DesiredHost], settings: SpecSettings = SpecSettings(), specDigest: String, commit: String? = nil) {
        self.hosts = hosts
        self.settings = settings
        self.specDigest = specDigest
        self.commit = commit
    }

    /// The host with this name.
    public func host(named name: String) -> DesiredHost? { hosts.first { $0.name == name } }
}
