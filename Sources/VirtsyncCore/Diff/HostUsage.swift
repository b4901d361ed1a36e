/// Who uses what on one host, from the observed state: which volumes, networks and pools each
/// domain uses (volume disks, and file disks whose path is a known volume), and which volumes
/// are the backing files of others.
struct HostUsage {
    private let keyByPath: [String: String]
    /// Names only, sorted: the domains themselves are looked up when asked for (rarely: when a
    /// resource leaves the spec), so building this on every pass copies no domain.
    private let byVolume: [String: [String]]
    private let byPool: [String: [String]]
    private let byNetwork: [String: [String]]
    private let overlaysByBase: [String: [String]]
    private let domains: [String: ObservedDomain]

    init(_ live: ObservedHost) {
        let keyByPath = Dictionary(live.volumes.map { ($0.value.path, $0.key) }, uniquingKeysWith: { a, _ in a })
        self.keyByPath = keyByPath
        var byVolume: [String: [String]] = [:], byPool: [String: [String]] = [:], byNetwork: [String: [String]] = [:]
        let values = live.domains.values
        for (name, index) in zip(live.domains.keys, values.indices) {
            let disks = values[index].model.disks
            if !disks.isEmpty {
                let keys = HostUsage.volumes(of: disks, keyByPath: keyByPath)
                for key in Set(keys) { byVolume[key, default: []].append(name) }
                for pool in Set(keys.compactMap { $0.split(separator: "/", maxSplits: 1).first.map(String.init) }) { byPool[pool, default: []].append(name) }
            }
            for nic in values[index].model.interfaces { if case .network(let n) = nic.source { byNetwork[n, default: []].append(name) } }
        }
        var overlays: [String: [String]] = [:]
        for (key, v) in live.volumes {
            if case .backing(let p, let n) = v.model.source { overlays["\(p)/\(n)", default: []].append(key) }
        }
        self.byVolume = byVolume.mapValues { $0.sorted() }
        self.byPool = byPool.mapValues { $0.sorted() }
        self.byNetwork = byNetwork.mapValues { $0.sorted() }
        self.overlaysByBase = overlays
        self.domains = live.domains
    }

    private static func volumes(of disks: [DiskModel], keyByPath: [String: String]) -> [String] {
        disks.compactMap { disk in
            switch disk.source {
            case .volume(let p, let v): return "\(p)/\(v)"
            case .file(let path), .block(let path): return keyByPath[path]
            case .network: return nil
            }
        }
    }

    /// Volume keys (`pool/volume`) a domain's disks use.
    func volumes(of domain: DomainModel) -> [String] { HostUsage.volumes(of: domain.disks, keyByPath: keyByPath) }

    /// Domains whose disks use the volume.
    func users(ofVolume key: String) -> [ObservedDomain] { (byVolume[key] ?? []).compactMap { domains[$0] } }

    /// Domains with a disk in the pool.
    func users(ofPool pool: String) -> [ObservedDomain] { (byPool[pool] ?? []).compactMap { domains[$0] } }

    /// Domains with an interface on the network.
    func users(ofNetwork network: String) -> [ObservedDomain] { (byNetwork[network] ?? []).compactMap { domains[$0] } }

    /// Volumes whose backing file is this volume.
    func overlays(of key: String) -> [String] { (overlaysByBase[key] ?? []).sorted() }
}

extension PlanBuilder {
    /// Whether `domain`, which uses a resource that leaves the spec, still uses it once this plan
    /// ran: an unmanaged domain always does; a managed one outside the spec stops using it only
    /// when pruning removes it; one in the spec is redefined without it, but while it runs it
    /// keeps it until it is restarted or stopped.
    func stillUses(_ domain: ObservedDomain, in host: DesiredHost, wantedUses: (DomainModel) -> Bool) -> Bool {
        guard domain.claim(by: owner).isOurs else { return true }
        guard let wanted = host.domains.first(where: { $0.name == domain.model.name }) else { return !prune }
        if wantedUses(wanted) { return true }
        guard domain.state.isActive else { return false }
        let restarts = wanted.restartForUpdates && wanted.power == .running
        return !(restarts || wanted.power == .stopped)
    }
}
