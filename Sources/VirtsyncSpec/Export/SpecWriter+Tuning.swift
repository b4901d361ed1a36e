import VirtsyncCore

extension SpecWriter {
    /// `cpu:` of an exported domain: the short form for a bare mode, the mapping when the
    /// definition has a model, features, a topology or pins; nothing when libvirt chooses.
    static func cpuLines(_ model: DomainModel) -> [String] {
        var cpu = model.cpu
        cpu.iothreads = nil  // a key of its own, `iothreads:`
        guard !cpu.isEmpty else {
            guard let mode = model.cpuMode, mode != .custom else { return [] }
            return ["cpu: \(mode.rawValue)"]
        }
        var lines = ["cpu:"]
        if let mode = model.cpuMode { lines.append("  mode: \(mode.rawValue)") }
        if let choice = cpu.model {
            lines.append("  model: {name: \(scalar(choice.name))\(choice.fallback.map { ", fallback: \($0.rawValue)" } ?? "")}")
        }
        if let features = cpu.features, !features.isEmpty {
            lines.append("  features:")
            for policy in CPUFeaturePolicy.allCases {
                let names = features.filter { $0.policy == policy }.map { scalar($0.name) }
                if !names.isEmpty { lines.append("    \(policy.rawValue): [\(names.joined(separator: ", "))]") }
            }
        }
        if let t = cpu.topology {
            lines.append("  topology: {sockets: \(t.sockets), dies: \(t.dies), cores: \(t.cores), threads: \(t.threads)}")
        }
        if cpu.vcpuPins?.isEmpty == false || cpu.emulatorPin != nil {
            lines.append("  pinning:")
            if let pins = cpu.vcpuPins, !pins.isEmpty {
                lines.append("    vcpus: {\(pins.map { "\($0.vcpu): \(quoted($0.cpuset.description))" }.joined(separator: ", "))}")
            }
            if let emulator = cpu.emulatorPin { lines.append("    emulator: \(quoted(emulator.description))") }
        }
        return lines
    }

    /// `numa:` and `memoryBacking:` of an exported domain, when its definition has them.
    static func memoryTuningLines(_ model: DomainModel) -> [String] {
        let tuning = model.memoryTuning
        var lines: [String] = []
        if tuning.numaCells?.isEmpty == false || tuning.numaTune != nil {
            lines.append("numa:")
            if let cells = tuning.numaCells, !cells.isEmpty {
                lines.append("  cells:")
                for cell in cells { lines.append("    - {cpus: \(quoted(cell.cpus.description)), memory: \(sizeText(cell.memory))}") }
            }
            if let tune = tuning.numaTune {
                lines.append("  tune: {mode: \(tune.mode.rawValue), nodeset: \(quoted(tune.nodeset.description))}")
            }
        }
        let pages: String?
        switch tuning.hugepages {
        case .defaultSize?: pages = "true"
        case .size(let size)?: pages = sizeText(size)
        case .off?, nil: pages = nil
        }
        if pages != nil || tuning.locked == true {
            lines.append("memoryBacking:")
            if let pages { lines.append("  hugepages: \(pages)") }
            if tuning.locked == true { lines.append("  locked: true") }
        }
        return lines
    }

    /// `graphics:`: the mapping form when the display listens elsewhere than on 127.0.0.1.
    static func graphicsLine(_ model: DomainModel) -> String {
        guard model.graphics != .none, let listen = model.graphicsListen, listen != LibvirtDefaults.graphicsListen else {
            return "graphics: \(model.graphics.rawValue)"
        }
        return "graphics: {type: \(model.graphics.rawValue), listen: \(quoted(listen))}"
    }

    /// `power:` of an exported domain: as it is now.
    static func powerLine(_ domain: ImportedDomain) -> String {
        let power: PowerState = domain.paused ? .paused : domain.running ? .running : .stopped
        return "power: \(power.rawValue)"
    }
}

/// Defaults the spec documents for values libvirt reports back.
enum LibvirtDefaults {
    /// Where a display listens unless `graphics.listen` says otherwise.
    static let graphicsListen = "127.0.0.1"
}
