import VirtsyncCore

/// A domain to write, with the lines of a comment placed above its document (e.g. elements of
/// its XML that the spec does not carry).
public struct ImportedDomain: Sendable {
    public var model: DomainModel
    /// The domain runs now: written as `power: running`, otherwise `power: stopped` (the
    /// model's own `power` is not used).
    public var running: Bool
    /// The domain is paused now: written as `power: paused`.
    public var paused: Bool = false
    /// Write `adopt: true`: the spec takes the existing domain over.
    public var adopt: Bool
    public var comments: [String]

    public init(model: DomainModel, running: Bool, adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.running = running
        self.adopt = adopt
        self.comments = comments
    }
}

/// A network to write, with the lines of a comment placed above its document.
public struct ImportedNetwork: Sendable {
    public var model: NetworkModel
    public var adopt: Bool
    public var comments: [String]

    public init(model: NetworkModel, adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.adopt = adopt
        self.comments = comments
    }
}

/// A volume of an imported pool, written as an entry of the pool's `volumes:` (under the pool
/// it is listed in, whatever its `model.pool` says).
public struct ImportedVolume: Sendable {
    public var model: VolumeModel
    public var adopt: Bool

    public init(model: VolumeModel, adopt: Bool = true) {
        self.model = model
        self.adopt = adopt
    }
}

/// A pool to write with its volumes, with the lines of a comment placed above its document.
public struct ImportedPool: Sendable {
    public var model: PoolModel
    public var volumes: [ImportedVolume]
    public var adopt: Bool
    public var comments: [String]

    public init(model: PoolModel, volumes: [ImportedVolume] = [], adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.volumes = volumes
        self.adopt = adopt
        self.comments = comments
    }
}

/// Everything one import writes: the resources, the owner (a `Settings` document when set) and
/// the comment lines every file starts with.
public struct ImportSet: Sendable {
    public var domains: [ImportedDomain]
    public var networks: [ImportedNetwork]
    public var pools: [ImportedPool]
    /// `Settings.owner`; `nil` writes no `settings.yaml`.
    public var owner: String?
    /// Comment lines at the top of every file (without the `# `).
    public var header: [String]

    public init(domains: [ImportedDomain] = [], networks: [ImportedNetwork] = [], pools: [ImportedPool] = [],
                owner: String? = nil, header: [String] = []) {
        self.domains = domains
        self.networks = networks
        self.pools = pools
        self.owner = owner
        self.header = header
    }
}
