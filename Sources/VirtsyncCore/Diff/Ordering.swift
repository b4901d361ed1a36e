import HeapModule
/// Orders plan steps as a dependency graph built from small named rules, then a stable
/// topological sort. Pools before volumes before domains; networks before domains; a domain's
/// definition before its start; removals in reverse.
enum Ordering {
    /// The steps with `dependsOn` filled in, dependencies first.
    static func order(_ input: [PlanStep], desired: DesiredState, observed: ObservedState, usages: [String: HostUsage]) -> [PlanStep] {
        // Nothing to order (every idle pass): the index of every desired domain is not built.
        guard !input.isEmpty else { return [] }
        var steps = input
        let index = StepIndex(steps, desired: desired, usages: usages)
        for i in steps.indices {
            var deps = Set<String>()
            for rule in rules {
                deps.formUnion(rule(steps[i], index, desired, observed))
            }
            deps.remove(steps[i].id)
            steps[i].dependsOn = deps.sorted()
        }
        return topologicalSort(steps)
    }

    typealias Rule = @Sendable (PlanStep, StepIndex, DesiredState, ObservedState) -> [String]

    /// Each rule names the steps a step waits for.
    static let rules: [Rule] = [
        volumeNeedsPoolAndBase,
        domainNeedsStorageAndNetworks,
        startNeedsDefinition,
        volumeDeleteWaitsForDomains,
        poolDeleteWaitsForVolumesAndDomains,
        networkDeleteWaitsForDomains,
        recreateAfterDelete,
        migrationNeedsDestination,
        arrivalFollowsMigration,
        secretBeforeItsVolume,
        secretDeleteAfterItsVolume,
        poolAfterItsSecret,
        suspendAfterStart,
    ]

    /// An encrypted volume is created, and a domain opening it defined, after the secret
    /// object that holds its passphrase.
    static let secretBeforeItsVolume: Rule = { step, idx, _, _ in
        let host = step.resource.host
        if step.resource.kind == .volume, step.action == .create, case .volume(let v)? = step.payloadVolume, v.encryption != nil {
            return idx.ids(kind: .secret, host: host, name: step.resource.name, actions: [.create])
        }
        guard step.resource.kind == .domain, [.create, .update, .replace, .start, .restart].contains(step.action),
              let vm = idx.domainModel(host: host, name: step.resource.name) else { return [] }
        let volumes = vm.disks.flatMap { disk -> [String] in
            guard disk.encryption != nil, case .volume(let p, let v) = disk.source else { return [] }
            return idx.ids(kind: .secret, host: host, name: "\(p)/\(v)", actions: [.create])
        }
        return volumes + idx.secretSteps(host: host, domain: step.resource.name).filter { [.create, .update].contains($0.action) }.map(\.id)
    }

    /// A pool that authenticates (iscsi, rbd) is defined and started after its secret object is
    /// created or given its new value: libvirt reads the key when the pool starts.
    static let poolAfterItsSecret: Rule = { step, idx, _, _ in
        guard step.resource.kind == .pool, [.create, .replace, .update, .start].contains(step.action) else { return [] }
        let model: PoolModel? = if case .pool(let m) = step.payload { m } else { nil }
        guard let type = model?.auth?.secretType ?? idx.poolSecretType(host: step.resource.host, pool: step.resource.name) else { return [] }
        return idx.ids(kind: .secret, host: step.resource.host, name: SecretObjectModel.consumer(pool: step.resource.name, type: type),
                       actions: [.create, .update])
    }

    /// A secret object goes after what used it: its volume, its VM's new definition, or its
    /// pool's new definition or removal.
    static let secretDeleteAfterItsVolume: Rule = { step, idx, _, _ in
        guard step.resource.kind == .secret, step.action == .delete else { return [] }
        if let vm = SecretObjectModel.domain(ofConsumer: step.resource.name) {
            return idx.ids(kind: .domain, host: step.resource.host, name: vm, actions: [.update, .replace, .delete])
        }
        if let pool = SecretObjectModel.pool(ofConsumer: step.resource.name) {
            return idx.ids(kind: .pool, host: step.resource.host, name: pool, actions: [.replace, .delete])
        }
        return idx.ids(kind: .volume, host: step.resource.host, name: step.resource.name, actions: [.delete])
    }

    /// A migration waits for the destination's networks, pools and volumes of the VM.
    static let migrationNeedsDestination: Rule = { step, idx, _, _ in
        guard step.action == .migrate, case .migration(let m) = step.payload,
              let vm = idx.domainModel(host: m.to, name: step.resource.name) else { return [] }
        var out: [String] = []
        for disk in vm.disks {
            guard case .volume(let p, let v) = disk.source else { continue }
            out += idx.ids(kind: .volume, host: m.to, name: "\(p)/\(v)", actions: [.create, .update])
            out += idx.ids(kind: .pool, host: m.to, name: p, actions: [.create, .replace, .update, .start])
        }
        for nic in vm.interfaces {
            guard case .network(let n) = nic.source else { continue }
            out += idx.ids(kind: .network, host: m.to, name: n, actions: [.create, .replace, .update, .start])
        }
        return out
    }

    /// Changes to a VM on the host it migrates to follow the migration.
    static let arrivalFollowsMigration: Rule = { step, idx, _, _ in
        guard step.resource.kind == .domain, step.action != .migrate, let move = idx.migration(of: step.resource.name),
              case .migration(let m) = move.payload, m.to == step.resource.host else { return [] }
        return [move.id]
    }

    /// Something deleted and created again in one plan is created after the delete.
    static let recreateAfterDelete: Rule = { step, idx, _, _ in
        guard step.action == .create else { return [] }
        return idx.ids(kind: step.resource.kind, host: step.resource.host, name: step.resource.name, actions: [.delete])
    }

    /// A volume is created or grown after its pool exists and is active, and after its base.
    static let volumeNeedsPoolAndBase: Rule = { step, idx, _, _ in
        guard step.resource.kind == .volume, step.action != .delete, case .volume(let v)? = step.payloadVolume else { return [] }
        var out = idx.ids(kind: .pool, host: step.resource.host, name: v.pool, actions: [.create, .replace, .update, .start])
        switch v.source {
        case .backing(let p, let n), .clone(let p, let n):
            out += idx.ids(kind: .volume, host: step.resource.host, name: "\(p)/\(n)", actions: [.create, .update])
            out += idx.ids(kind: .pool, host: step.resource.host, name: p, actions: [.create, .replace, .start])
        case .blank, .generated, .image: break
        }
        return out
    }

    /// A domain is defined after the volumes, pools and networks it uses.
    static let domainNeedsStorageAndNetworks: Rule = { step, idx, _, _ in
        guard step.resource.kind == .domain, [.create, .update, .replace, .start, .restart].contains(step.action),
              let vm = idx.domainModel(host: step.resource.host, name: step.resource.name) else { return [] }
        let host = step.resource.host
        var out: [String] = []
        for disk in vm.disks {
            guard case .volume(let p, let v) = disk.source else { continue }
            out += idx.ids(kind: .volume, host: host, name: "\(p)/\(v)", actions: [.create, .update])
            out += idx.ids(kind: .pool, host: host, name: p, actions: [.create, .replace, .update, .start])
        }
        for nic in vm.interfaces {
            guard case .network(let n) = nic.source else { continue }
            out += idx.ids(kind: .network, host: host, name: n, actions: [.create, .replace, .update, .start])
        }
        return out
    }

    /// Start, restart and stop follow the definition of the same resource.
    static let startNeedsDefinition: Rule = { step, idx, _, _ in
        guard [.start, .restart, .stop, .suspend, .resume].contains(step.action) else { return [] }
        return idx.ids(kind: step.resource.kind, host: step.resource.host, name: step.resource.name,
                       actions: [.create, .update, .replace])
    }

    /// A VM to be paused is paused once it runs: after its start or restart.
    static let suspendAfterStart: Rule = { step, idx, _, _ in
        guard step.action == .suspend else { return [] }
        return idx.ids(kind: step.resource.kind, host: step.resource.host, name: step.resource.name, actions: [.start, .restart])
    }

    /// What a domain that stops using something may do first: be removed, redefined, restarted
    /// or stopped.
    static let releasing: Set<StepAction> = [.delete, .update, .replace, .restart, .stop, .migrate]

    /// A volume is deleted only after every domain that used it let go of it.
    static let volumeDeleteWaitsForDomains: Rule = { step, idx, _, observed in
        guard step.resource.kind == .volume, step.action == .delete,
              let live = observed.hosts[step.resource.host] else { return [] }
        return idx.usage(step.resource.host, live).users(ofVolume: step.resource.name).flatMap {
            idx.ids(kind: .domain, host: step.resource.host, name: $0.model.name, actions: releasing)
        }
    }

    /// A pool is removed after its volumes and the domains using it.
    static let poolDeleteWaitsForVolumesAndDomains: Rule = { step, idx, _, observed in
        guard step.resource.kind == .pool, step.action == .delete else { return [] }
        let prefix = step.resource.name + "/"
        var out = idx.steps.filter { $0.resource.kind == .volume && $0.action == .delete && $0.resource.host == step.resource.host
            && $0.resource.name.hasPrefix(prefix) }.map(\.id)   // pool deletions are rare: a scan is fine
        if let live = observed.hosts[step.resource.host] {
            for dom in idx.usage(step.resource.host, live).users(ofPool: step.resource.name) {
                out += idx.ids(kind: .domain, host: step.resource.host, name: dom.model.name, actions: releasing)
            }
        }
        return out
    }

    /// A network is removed after the domains plugged into it let go of it.
    static let networkDeleteWaitsForDomains: Rule = { step, idx, _, observed in
        guard step.resource.kind == .network, step.action == .delete,
              let live = observed.hosts[step.resource.host] else { return [] }
        return idx.usage(step.resource.host, live).users(ofNetwork: step.resource.name).flatMap {
            idx.ids(kind: .domain, host: step.resource.host, name: $0.model.name, actions: releasing)
        }
    }

    /// Kahn's algorithm; among ready steps the one with the lowest priority key goes first, so
    /// the order is deterministic and reads naturally.
    static func topologicalSort(_ steps: [PlanStep]) -> [PlanStep] {
        var remaining = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        var indegree: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        for s in steps {
            let deps = s.dependsOn.filter { remaining[$0] != nil }
            indegree[s.id] = deps.count
            for d in deps { dependents[d, default: []].append(s.id) }
        }
        var ready = Heap<Ready>()
        for s in steps where indegree[s.id] == 0 { ready.insert(Ready(s)) }
        var out: [PlanStep] = []
        out.reserveCapacity(steps.count)
        while let next = ready.popMin()?.step {
            out.append(next)
            remaining[next.id] = nil
            for d in dependents[next.id] ?? [] {
                indegree[d, default: 0] -= 1
                if indegree[d] == 0, let s = remaining[d] { ready.insert(Ready(s)) }
            }
        }
        // A cycle cannot come out of the rules above; if one ever does, keep every step anyway.
        out += remaining.values.sorted(by: priority)
        return out
    }

    static func priority(_ a: PlanStep, _ b: PlanStep) -> Bool { key(a) < key(b) }

    /// A step waiting in the ready heap, ordered by its priority key.
    private struct Ready: Comparable {
        let step: PlanStep
        let key: (Int, Int, String, String, Int)
        init(_ step: PlanStep) {
            self.step = step
            key = Ordering.key(step)
        }
        static func < (a: Ready, b: Ready) -> Bool { a.key < b.key }
        static func == (a: Ready, b: Ready) -> Bool { a.key == b.key && a.step.id == b.step.id }
    }

    fileprivate static func key(_ s: PlanStep) -> (Int, Int, String, String, Int) {
        let deleting = s.action == .delete
        let kindRank = deleting ? 10 - s.resource.kind.rank : s.resource.kind.rank
        let actionRank: Int
        switch s.action {
        case .create: actionRank = 0
        case .replace: actionRank = 1
        case .update: actionRank = 2
        case .migrate: actionRank = 3
        case .stop: actionRank = 4
        case .start: actionRank = 5
        case .restart: actionRank = 6
        case .delete: actionRank = 7
        case .adopt: actionRank = -1
        // A start comes first when a stopped VM is to be paused.
        case .resume: actionRank = 8
        case .suspend: actionRank = 9
        }
        return (deleting ? 1 : 0, kindRank * 10 + (s.action == .start || s.action == .restart ? 5 : 0), s.resource.host, s.resource.name, actionRank)
    }
}

/// Looks steps up by resource.
struct StepIndex {
    let steps: [PlanStep]
    private let byResource: [String: [PlanStep]]
    private let desiredDomains: [String: DomainModel]
    private let usages: [String: HostUsage]
    private let migrations: [String: PlanStep]
    /// The steps of escape-hatch secret objects, by `host|vm`.
    private let secretsByDomain: [String: [PlanStep]]
    /// The usage type of each desired pool's authentication, by `host|pool`.
    private let poolSecretTypes: [String: String]

    init(_ steps: [PlanStep], desired: DesiredState, usages: [String: HostUsage]) {
        self.steps = steps
        var secrets: [String: [PlanStep]] = [:]
        for s in steps where s.resource.kind == .secret {
            if let vm = SecretObjectModel.domain(ofConsumer: s.resource.name) { secrets["\(s.resource.host)|\(vm)", default: []].append(s) }
        }
        secretsByDomain = secrets
        migrations = Dictionary(steps.filter { $0.action == .migrate }.map { ($0.resource.name, $0) }, uniquingKeysWith: { a, _ in a })
        var map: [String: [PlanStep]] = [:]
        for s in steps { map["\(s.resource.kind.rawValue)|\(s.resource.host)|\(s.resource.name)", default: []].append(s) }
        byResource = map
        var domains: [String: DomainModel] = [:]
        for host in desired.hosts {
            for d in host.domains { domains["\(host.name)|\(d.name)"] = d }
        }
        desiredDomains = domains
        var types: [String: String] = [:]
        for host in desired.hosts {
            for pool in host.pools { if let auth = pool.auth { types["\(host.name)|\(pool.name)"] = auth.secretType } }
        }
        poolSecretTypes = types
        self.usages = usages
    }

    /// The usage type of a desired pool's authentication on a host (nil: it has none).
    func poolSecretType(host: String, pool: String) -> String? { poolSecretTypes["\(host)|\(pool)"] }

    /// Who uses what on a host (built once by the planner).
    func usage(_ host: String, _ live: ObservedHost) -> HostUsage { usages[host] ?? HostUsage(live) }

    func ids(kind: ResourceKind, host: String, name: String, actions: Set<StepAction>) -> [String] {
        (byResource["\(kind.rawValue)|\(host)|\(name)"] ?? []).filter { actions.contains($0.action) }.map(\.id)
    }

    /// The steps of a VM's escape-hatch secret objects on a host.
    func secretSteps(host: String, domain: String) -> [PlanStep] { secretsByDomain["\(host)|\(domain)"] ?? [] }

    /// The migration of a domain in this plan.
    func migration(of name: String) -> PlanStep? { migrations[name] }

    /// The desired model of a domain, from its create/update step.
    func domainModel(host: String, name: String) -> DomainModel? {
        for s in byResource["domain|\(host)|\(name)"] ?? [] {
            if case .domain(let m, _, _) = s.payload { return m }
        }
        return desiredDomains["\(host)|\(name)"]
    }
}

extension PlanStep {
    var payloadVolume: StepPayload? {
        if case .volume = payload { return payload }
        return nil
    }
}
