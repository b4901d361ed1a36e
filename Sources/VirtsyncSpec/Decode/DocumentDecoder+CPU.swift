import VirtsyncCore
import Yams

/// `cpu` (the short form `cpu: host-passthrough`, or a mapping with mode, model, features,
/// topology and pinning) of a VM, checked against its vCPU counts.
extension DocumentDecoder {
    static let cpuKeys = KeySet(["mode", "model", "features", "topology", "pinning"])
    static let cpuModelKeys = KeySet(["name", "fallback"])
    static let cpuFeatureKeys = KeySet(["require", "disable"])
    static let topologyKeys = KeySet(["sockets", "dies", "cores", "threads"])
    static let pinningKeys = KeySet(["vcpus", "emulator"])
    /// The modes the short form takes: `custom` needs the mapping form (with a model).
    static let shortCPUModes: [CPUMode] = [.hostPassthrough, .hostModel, .maximum]
    /// `ha: true` with `power: paused`: why it is refused.
    static let haPausedMessage = "an HA VM cannot be paused: HA keeps it running on the host that owns it; "
        + "use power: running or stopped, or drop 'ha'"

    func decodeCPU(_ map: MapReader, into vm: inout MachineSpec) {
        guard let node = map.node("cpu") else { return }
        guard case .mapping = node else {
            vm.cpu = map.choice("cpu", Self.shortCPUModes)?.value
            return
        }
        guard let cpu = map.map("cpu", keys: Self.cpuKeys) else { return }
        vm.cpu = cpu.choice("mode", CPUMode.allCases)?.value
        var tuning = DomainCPU()
        if let model = readCPUModel(cpu) {
            if let mode = vm.cpu, mode != .custom {
                reporter.error(cpu.keyLocation("model"), cpu.keyPath("model"),
                               "a CPU model goes with mode custom (the default when a model is given), not \(mode.rawValue)")
            } else {
                tuning.model = model
            }
        }
        if let features = cpu.map("features", keys: Self.cpuFeatureKeys) { tuning.features = readFeatures(features) }
        // libvirt refuses a custom CPU without a model ("Missing CPU model name") and feature
        // flags without a model to apply them to, unless the mode is one of the host modes.
        if (vm.cpu ?? .custom) == .custom, tuning.model == nil, !cpu.has("model") {
            if vm.cpu == .custom {
                reporter.error(cpu.valueLocation("mode"), cpu.keyPath("mode"), "mode custom needs a model (cpu.model), e.g. qemu64")
            } else if tuning.features?.isEmpty == false {
                reporter.error(cpu.keyLocation("features"), cpu.keyPath("features"),
                               "feature flags need a CPU model (cpu.model) or a host mode (host-model, host-passthrough, maximum)")
            }
        }
        let maxVcpus = vm.maxVcpus?.value ?? vm.vcpus?.value ?? 1
        if let topology = cpu.map("topology", keys: Self.topologyKeys) {
            tuning.topology = readTopology(topology, vcpus: vm.vcpus?.value ?? 1, maxVcpus: vm.maxVcpus?.value)
        }
        let ceiling = tuning.topology?.vcpus ?? maxVcpus
        if let pinning = cpu.map("pinning", keys: Self.pinningKeys) {
            if pinning.has("vcpus") { tuning.vcpuPins = readVcpuPins(pinning, maxVcpus: ceiling) }
            tuning.emulatorPin = readCPUSet(pinning, "emulator", what: "host CPUs")
        }
        vm.cpuTuning = tuning
    }

    private func readCPUModel(_ cpu: MapReader) -> CPUModelChoice? {
        guard let node = cpu.node("model") else { return nil }
        let name: Located<String>?
        var fallback: CPUFallback?
        let path: String
        if case .mapping = node {
            guard let model = cpu.map("model", keys: Self.cpuModelKeys) else { return nil }
            name = model.string("name", required: true)
            fallback = model.choice("fallback", CPUFallback.allCases)?.value
            path = model.keyPath("name")
        } else {
            name = cpu.string("model")
            path = cpu.keyPath("model")
        }
        guard let name else { return nil }
        if let problem = Formats.tokenProblem(name.value) {
            reporter.error(name.location, path, "CPU model \(problem)")
            return nil
        }
        return CPUModelChoice(name: name.value, fallback: fallback)
    }

    private func readFeatures(_ map: MapReader) -> [CPUFeature] {
        var seen: [String: SourceLocation] = [:]
        var out: [CPUFeature] = []
        for policy in CPUFeaturePolicy.allCases {
            for name in map.stringList(policy.rawValue) ?? [] {
                let path = map.keyPath(policy.rawValue)
                if let problem = Formats.tokenProblem(name.value) {
                    reporter.error(name.location, path, "CPU feature \(problem)")
                } else if let first = seen[name.value] {
                    reporter.error(name.location, path, "CPU feature \(name.value) is also listed at \(first)")
                } else {
                    seen[name.value] = name.location
                    out.append(CPUFeature(name: name.value, policy: policy))
                }
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    /// The topology; libvirt requires sockets × dies × cores × threads to be the maximum vCPU
    /// count (`maxVcpus`, else `vcpus`).
    private func readTopology(_ map: MapReader, vcpus: Int, maxVcpus: Int?) -> CPUTopology? {
        let range = 1...Self.maxVcpuCount
        let sockets = map.int("sockets", required: true, range: range)
        let dies = map.int("dies", range: range)
        let cores = map.int("cores", required: true, range: range)
        let threads = map.int("threads", required: true, range: range)
        guard let sockets, let cores, let threads else { return nil }
        let topology = CPUTopology(sockets: sockets.value, dies: dies?.value ?? 1, cores: cores.value, threads: threads.value)
        let (wanted, key) = maxVcpus.map { ($0, "maxVcpus") } ?? (vcpus, "vcpus")
        let product = topology.sockets.multipliedReportingOverflow(by: topology.dies).partialValue
            .multipliedReportingOverflow(by: topology.cores).partialValue.multipliedReportingOverflow(by: topology.threads).partialValue
        guard product == wanted else {
            reporter.error(map.location, map.path,
                           "sockets × dies × cores × threads = \(product), but \(key) is \(wanted); "
                           + "libvirt requires the topology to multiply to the maximum vCPU count")
            return nil
        }
        return topology
    }

    /// `pinning.vcpus`: a mapping of vCPU number → host CPUs.
    private func readVcpuPins(_ map: MapReader, maxVcpus: Int) -> [VCPUPin]? {
        guard let node = map.node("vcpus") else { return nil }
        let path = map.keyPath("vcpus")
        guard case .mapping(let mapping) = node else {
            map.typeError("vcpus", expected: "a mapping of vCPU number to host CPUs, e.g. {0: \"2\", 1: \"3\"}", got: node)
            return nil
        }
        var pins: [VCPUPin] = []
        for (keyNode, valueNode) in mapping {
            let location = keyNode.location(in: file)
            guard case .int(let vcpu) = NodeValue(keyNode), vcpu >= 0 else {
                reporter.error(location, path, "a vCPU number (0, 1, ...) is expected as the key, got \(NodeValue.describe(keyNode))")
                continue
            }
            guard vcpu < maxVcpus else {
                reporter.error(location, "\(path).\(vcpu)", "vCPU \(vcpu) does not exist: the VM has \(maxVcpus) (numbered from 0)")
                continue
            }
            if pins.contains(where: { $0.vcpu == vcpu }) {
                reporter.error(location, "\(path).\(vcpu)", "vCPU \(vcpu) is pinned twice")
                continue
            }
            guard case .scalar(let scalar) = valueNode, let set = CPUSet(parsing: scalar.string) else {
                reporter.error(valueNode.location(in: file), "\(path).\(vcpu)", Self.cpusetMessage("host CPUs"))
                continue
            }
            pins.append(VCPUPin(vcpu: vcpu, cpuset: set))
        }
        return pins.sorted { $0.vcpu < $1.vcpu }
    }

    /// A cpuset value (`"0-3,^2"`), canonical.
    func readCPUSet(_ map: MapReader, _ key: String, required: Bool = false, what: String) -> CPUSet? {
        guard let text = map.string(key, required: required) else { return nil }
        guard let set = CPUSet(parsing: text.value) else {
            reporter.error(text.location, map.keyPath(key), Self.cpusetMessage(what))
            return nil
        }
        return set
    }

    static func cpusetMessage(_ what: String) -> String {
        "expected \(what) as a list such as \"0-3\", \"1,3\" or \"0-7,^4\" (numbers 0-\(CPUSet.maxCPU))"
    }
}
