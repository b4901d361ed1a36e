/// Who uses what on one host, from the observed state: which volumes, networks and pools each
/// domain uses (volume disks, and file disks whose path is a known volume), and which volumes
/// are the backing files of others.
struct HostUsage {
    private let keyByPath: [String: String]
    private let byVolume: [String: [ObservedDomain]]
    private let byPool: [String: [ObservedDomain]]
    private let byNetwork: [String: [ObservedDomain]]
    private let overlaysByBase: [String: [String]]

    init(_ live: ObservedHost) {
        let keyByPath = Dictionary(live.volumes.map { ($0.value.path, $0.key) }, uniquingKeysWith: { a, _ in a })
        self.keyByPath = keyByPath
        var byVolume: [String: [ObservedDomain]] = [:], byPool: [String: [ObservedDomain]] = [:], byNetwork: [String: [ObservedDomain]] = [:]
        for name in live.domains.keys.sorted() {
            guard let dom = live.domains[name] else { continue }
            let keys = HostUsage.volumes(of: dom.model, keyByPath: keyByPath)
            for key in Set(keys) { byVolume[key, default: []].append(dom) }
            for pool in Set(keys.compactMap { $0.split(separator: "/", maxSplits: 1).first.map(String.init) }) { byPool[pool, default: []].append(dom) }
            for nic in dom.model.interfaces { if case .network(let n) = nic.source { byNetwork[n, default: []].append(dom) } }
        }
        var overlays: [String: [String]] = [:]
        for (key, v) in live.volumes {
            if case .backing(let p, let n) = v.model.source { overlays["\(p)/\(n)", default: []].append(key) }
        }
        self.byVolume = byVolume
        self.byPool = byPool
        self.byNetwork = byNetwork
        self.overlaysByBase = overlays
    }

    private static func volumes(of domain: DomainModel, keyByPath: [String: String]) -> [String] {
        domain.disks.compactMap { disk in
            switch disk.source {
            case .volume(let p, let v): return "\(p)/\(v)"
            case .file(let path), .block(let path): return keyByPath[path]
            case .network: return nil
            }
        }
    }

    /// Volume keys (`pool/volume`) a domain's disks use.
    func volumes(of domain: DomainModel) -> [String] { HostUsage.volumes(of: domain, keyByPath: keyByPath) }

    /// Domains whose disks use the volume.
    func users(ofVolume key: String) -> [ObservedDomain] { byVolume[key] ?? [] }

    /// Domains with a disk in the pool.
    func users(ofPool pool: String) -> [ObservedDomain] { byPool[pool] ?? [] }

    /// Domains with an interface on the network.
    func users(ofNetwork network: String) -> [ObservedDomain] { byNetwork[network] ?? [] }

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
