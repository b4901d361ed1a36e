/// Schedules a plan's migrations in waves. A wave starts when every migration of the waves
/// before it has finished. Within a wave:
///
/// - at most `maxPerCluster` migrations;
/// - each host takes part in at most `maxPerHost` of them, outgoing and incoming together (so
///   with `maxPerHost: 1` no host takes part in two migrations of one wave);
/// - no host is both a source and a destination (no chains, no swaps inside a wave);
/// - a destination with known memory (declared capacity, else what libvirt reports) takes only
///   what fits, counting the VMs that arrived in earlier waves and those that left it.
///
/// Greedy, in plan order (which is sorted by host and name): deterministic.
enum MigrationWaves {
    /// Sets `wave` on every migrate step; returns notes for migrations that had to go over a
    /// host's memory while in flight (a cycle of full hosts).
    static func assign(_ steps: inout [PlanStep], desired: DesiredState, observed: ObservedState) -> [PlanNote] {
        let indices = steps.indices.filter { steps[$0].action == .migrate }
        guard !indices.isEmpty else { return [] }
        let settings = desired.settings.migration
        var free: [String: Int64] = [:]
        for host in desired.hosts {
            guard let total = host.memoryCapacity ?? observed.hosts[host.name]?.facts?.memory,
                  let live = observed.hosts[host.name] else { continue }
            let used = live.domains.values.filter(\.state.isActive).reduce(Int64(0)) { $0 + Int64(clamping: memory($1).bytes) }
            free[host.name] = Int64(clamping: total.bytes) - used
        }
        var notes: [PlanNote] = []
        var pending = indices
        var wave = 0
        while !pending.isEmpty {
            wave += 1
            var count: [String: Int] = [:]
            var sources = Set<String>(), targets = Set<String>()
            var inWave: [Int] = []
            var arrivals: [(String, String, Int64)] = []
            for i in pending {
                guard case .migration(let m) = steps[i].payload else { continue }
                let size = steps[i].memoryBytes(observed)
                let fitsMemory = free[m.to].map { $0 >= size } ?? true
                guard inWave.count < settings.maxPerCluster,
                      count[m.from, default: 0] < settings.maxPerHost, count[m.to, default: 0] < settings.maxPerHost,
                      !targets.contains(m.from), !sources.contains(m.to), fitsMemory || !m.live else { continue }
                inWave.append(i)
                count[m.from, default: 0] += 1
                count[m.to, default: 0] += 1
                sources.insert(m.from)
                targets.insert(m.to)
                if m.live { free[m.to]? -= size }
                arrivals.append((m.from, m.to, m.live ? size : 0))
            }
            if inWave.isEmpty, let first = pending.first, case .migration(let m) = steps[first].payload {
                // Every destination is full until something leaves it: run one alone.
                inWave = [first]
                notes.append(PlanNote(severity: .warning, resource: steps[first].resource,
                                      message: "migration of \(steps[first].resource.name) to \(m.to) runs while \(m.to) is short of memory (full hosts waiting on each other)"))
                let size = steps[first].memoryBytes(observed)
                free[m.to]? -= size
                arrivals.append((m.from, m.to, size))
            }
            for i in inWave { steps[i].wave = wave }
            // Memory leaves the sources once the wave is over.
            for (from, _, size) in arrivals { free[from]? += size }
            pending.removeAll { inWave.contains($0) }
        }
        return notes
    }

    static func memory(_ domain: ObservedDomain) -> ByteSize {
        domain.live?.maxMemory ?? domain.model.maxMemory ?? domain.model.memory
    }
}

extension PlanStep {
    /// Memory a migrating domain holds, from what was observed on its source.
    func memoryBytes(_ observed: ObservedState) -> Int64 {
        guard let domain = observed.hosts[resource.host]?.domains[resource.name] else { return 0 }
        return Int64(clamping: MigrationWaves.memory(domain).bytes)
    }
}
