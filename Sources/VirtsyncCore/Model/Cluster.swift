/// How live migrations run: limits, speed and safety settings (`Settings.migration`).
public struct MigrationSettings: Hashable, Codable, Sendable {
    /// Migrations a host takes part in at once, outgoing and incoming together.
    public var maxPerHost: Int
    /// Migrations in the whole cluster at once (the size of a wave).
    public var maxPerCluster: Int
    /// Bandwidth cap per migration in MiB/s; `nil` leaves libvirt's default (unlimited).
    public var bandwidthMiBps: Int?
    /// Longest pause of the guest at the switch-over, in seconds.
    public var maxDowntime: Double
    /// A migration running longer is aborted (the VM keeps running on its source).
    public var timeout: Double
    /// Pass libvirt's `VIR_MIGRATE_UNSAFE`: for shared storage libvirt cannot recognise as shared
    /// (a plain directory shared by other means). Off by default.
    public var allowUnsafe: Bool

    public static let defaultMaxPerHost = 2
    public static let defaultMaxPerCluster = 4

    public init(maxPerHost: Int = MigrationSettings.defaultMaxPerHost, maxPerCluster: Int = MigrationSettings.defaultMaxPerCluster,
                bandwidthMiBps: Int? = nil, maxDowntime: Double = 0.3, timeout: Double = 300, allowUnsafe: Bool = false) {
        self.maxPerHost = maxPerHost
        self.maxPerCluster = maxPerCluster
        self.bandwidthMiBps = bandwidthMiBps
        self.maxDowntime = maxDowntime
        self.timeout = timeout
        self.allowUnsafe = allowUnsafe
    }
}

/// Where a VM may run and what it needs, as the spec says; resolved by `ClusterPlacement`.
public struct DesiredPlacement: Hashable, Codable, Sendable {
    public var rule: PlacementRule
    public var onMaintenance: MaintenancePolicy
    /// Must survive a host loss (the N+1 check counts it).
    public var ha: Bool
    /// After a failover, a pinned HA VM goes back to its host by live migration once that host
    /// is healthy again (the spec's `failback`, default true). Only meaningful with `ha`.
    public var failback: Bool

    public init(rule: PlacementRule = PlacementRule(), onMaintenance: MaintenancePolicy = .migrate, ha: Bool = false,
                failback: Bool = true) {
        self.rule = rule
        self.onMaintenance = onMaintenance
        self.ha = ha
        self.failback = failback
    }
}

extension DesiredPlacement {
    private enum CodingKeys: String, CodingKey {
        case rule, onMaintenance, ha, failback
    }

    /// Reads what older versions wrote too: a missing `failback` is the default, true.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rule = try container.decode(PlacementRule.self, forKey: .rule)
        onMaintenance = try container.decode(MaintenancePolicy.self, forKey: .onMaintenance)
        ha = try container.decode(Bool.self, forKey: .ha)
        failback = try container.decodeIfPresent(Bool.self, forKey: .failback) ?? true
    }

    /// Writes `failback` only when it is false, so that the encoding (and every digest over it)
    /// of a placement that does not use it stays what it was before the key existed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rule, forKey: .rule)
        try container.encode(onMaintenance, forKey: .onMaintenance)
        try container.encode(ha, forKey: .ha)
        if !failback { try container.encode(failback, forKey: .failback) }
    }
}

/// A VM of a spec with several hosts, before placement puts it on one, with its cloud-init seed.
public struct ClusterMachine: Hashable, Codable, Sendable {
    public var domain: DomainModel
    public var placement: DesiredPlacement
    /// The generated cloud-init seed volume, created on whichever host the VM lands.
    public var seed: VolumeModel?

    public init(domain: DomainModel, placement: DesiredPlacement = DesiredPlacement(), seed: VolumeModel? = nil) {
        self.domain = domain
        self.placement = placement
        self.seed = seed
    }
}

/// What libvirt reports about a host itself (capabilities and node info), for pre-flight checks.
public struct HostFacts: Hashable, Codable, Sendable {
    /// `x86_64`, `aarch64`.
    public var arch: String
    /// CPU vendor and model of the host (`Intel`, `Skylake-Client-IBRS`).
    public var cpuVendor: String?
    public var cpuModel: String?
    /// Physical memory and logical CPUs.
    public var memory: ByteSize
    public var cpus: Int
    /// libvirt's host UUID (must differ between hosts for migration).
    public var hostUUID: String?

    public init(arch: String, cpuVendor: String? = nil, cpuModel: String? = nil, memory: ByteSize, cpus: Int, hostUUID: String? = nil) {
        self.arch = arch
        self.cpuVendor = cpuVendor
        self.cpuModel = cpuModel
        self.memory = memory
        self.cpus = cpus
        self.hostUUID = hostUUID
    }
}
