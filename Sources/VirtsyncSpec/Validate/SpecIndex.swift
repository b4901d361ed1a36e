import VirtsyncCore

/// A volume that virtsync creates on one host: in a pool's `volumes`, or by a VM disk with a
/// `size`.
struct VolumeKey: Hashable, Sendable {
    var host: String
    var pool: String
    var volume: String
}

/// One managed volume, as it will be desired, with where it was declared.
struct VolumeEntry: Sendable {
    var model: VolumeModel
    var location: SourceLocation
    /// Key path of the declaration, e.g. `StoragePool[vms].volumes[0]`.
    var path: String
    /// The backing or clone source, with its position, to check that it exists.
    var sourceRef: Located<VolumeRef>?
    var sourcePath: String
}

/// What validation resolved, for the normalizer: where each document lives and which volumes
/// exist. Built by `SpecValidator`; meaningful only when no error was reported.
struct SpecIndex: Sendable {
    /// Every host name, sorted; `["local"]` when the spec has no Host document.
    var hostNames: [String] = [] {
        didSet { hostSet = Set(hostNames) }
    }
    /// `hostNames` for membership tests.
    private(set) var hostSet: Set<String> = []
    var hostsByName: [String: HostSpec] = [:]
    /// First document of each name (duplicates are errors).
    var networksByName: [String: Int] = [:]
    var poolsByName: [String: Int] = [:]
    /// Hosts of each network and pool, by index in the spec, in host name order.
    var networkHosts: [[String]] = []
    var poolHosts: [[String]] = []
    /// The host of each VM, by index in the spec (nil when it could not be decided).
    var machineHosts: [String?] = []
    /// Every managed volume, by host, pool and name.
    var volumes: [VolumeKey: VolumeEntry] = [:]

    /// The name of the implicit host of a spec without Host documents.
    static let implicitHost = "local"

    /// Whether pool `name` exists and is placed on `host`.
    func pool(_ name: String, isOn host: String) -> Bool {
        guard let index = poolsByName[name] else { return false }
        return poolHosts[index].contains(host)
    }

    /// Whether network `name` exists and is placed on `host`.
    func network(_ name: String, isOn host: String) -> Bool {
        guard let index = networksByName[name] else { return false }
        return networkHosts[index].contains(host)
    }
}
