import VirtsyncXML
import VirtsyncCore

/// The CPU, NUMA, memory-backing and graphics-listen parts of a domain's XML, read back into
/// the model. An absent element reads as `nil` (the diff treats it as "none"); libvirt's own
/// additions (`match`, `check`, `<cache>`, feature policies other than require and disable)
/// are not part of the model.
extension LibvirtXML {
    static func parseCPU(_ root: XElement) -> DomainCPU {
        var out = DomainCPU()
        if let cpu = root.child("cpu") {
            let mode = cpu[attribute: "mode"] ?? CPUMode.custom.rawValue
            if mode == CPUMode.custom.rawValue, let model = cpu.child("model"), !model.text.trimmed.isEmpty {
                out.model = CPUModelChoice(name: model.text.trimmed, fallback: model[attribute: "fallback"].flatMap(CPUFallback.init(rawValue:)))
            }
            let features = cpu.children(named: "feature").compactMap { element -> CPUFeature? in
                guard let name = element[attribute: "name"],
                      let policy = element[attribute: "policy"].flatMap(CPUFeaturePolicy.init(rawValue:)) else { return nil }
                return CPUFeature(name: name, policy: policy)
            }
            if !features.isEmpty { out.features = features.sorted { $0.name < $1.name } }
            if let topology = cpu.child("topology") {
                func number(_ name: String) -> Int { topology[attribute: name].flatMap { Int($0) } ?? 1 }
                out.topology = CPUTopology(sockets: number("sockets"), dies: number("dies"), cores: number("cores"), threads: number("threads"))
            }
        }
        out.iothreads = root.child("iothreads").flatMap { Int($0.text.trimmed) }
        if let tune = root.child("cputune") {
            let pins = tune.children(named: "vcpupin").compactMap(parsePin)
            if !pins.isEmpty { out.vcpuPins = pins.sorted { $0.vcpu < $1.vcpu } }
            out.emulatorPin = tune.child("emulatorpin")?[attribute: "cpuset"].flatMap { CPUSet(parsing: $0) }
        }
        return out
    }

    static func parsePin(_ element: XElement) -> VCPUPin? {
        guard let vcpu = element[attribute: "vcpu"].flatMap({ Int($0) }),
              let cpuset = element[attribute: "cpuset"].flatMap({ CPUSet(parsing: $0) }) else { return nil }
        return VCPUPin(vcpu: vcpu, cpuset: cpuset)
    }

    static func parseMemoryTuning(_ root: XElement) -> DomainMemoryTuning {
        var out = DomainMemoryTuning()
        let cells = root.path("cpu/numa")?.children(named: "cell").compactMap { cell -> NUMACell? in
            guard let cpus = cell[attribute: "cpus"].flatMap({ CPUSet(parsing: $0) }),
                  let memory = scaled(cell[attribute: "memory"], unit: cell[attribute: "unit"] ?? "KiB") else { return nil }
            return NUMACell(cpus: cpus, memory: memory)
        } ?? []
        if !cells.isEmpty { out.numaCells = cells }
        if let memory = root.path("numatune/memory"), let nodeset = memory[attribute: "nodeset"].flatMap({ CPUSet(parsing: $0) }) {
            out.numaTune = NUMATune(mode: memory[attribute: "mode"].flatMap(NUMATuneMode.init(rawValue:)) ?? .strict, nodeset: nodeset)
        }
        if let backing = root.child("memoryBacking") {
            if let pages = backing.child("hugepages") {
                if let page = pages.child("page"), let size = scaled(page[attribute: "size"], unit: page[attribute: "unit"] ?? "KiB") {
                    out.hugepages = .size(size)
                } else {
                    out.hugepages = .defaultSize
                }
            }
            if backing.child("locked") != nil { out.locked = true }
        }
        return out
    }

    /// The address the first VNC/SPICE display listens on, when it listens on an address.
    static func parseGraphicsListen(_ root: XElement) -> String? {
        guard let graphics = root.child("devices")?.children(named: "graphics").first(where: { element in
            element[attribute: "type"].flatMap(GraphicsType.init(rawValue:)).map { $0 != .none } ?? false
        }) else { return nil }
        if let listen = graphics.children(named: "listen").first(where: { $0[attribute: "type"] == "address" }),
           let address = listen[attribute: "address"] {
            return address
        }
        return graphics[attribute: "listen"]
    }

    /// A number with a libvirt unit, as an attribute pair (`memory='65536' unit='KiB'`).
    static func scaled(_ value: String?, unit: String) -> ByteSize? {
        guard let value, let number = UInt64(value.trimmed), let factor = unitFactor(unit) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : ByteSize(bytes: bytes)
    }
}
