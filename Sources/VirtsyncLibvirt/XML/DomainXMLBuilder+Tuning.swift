import VirtsyncXML
import VirtsyncCore

/// `<cpu>` (mode, model, features, topology, NUMA cells), `<cputune>` (pinning), `<numatune>`,
/// `<memoryBacking>` and the graphics listen address, built from the model and merged into an
/// existing definition: only what the spec sets is written, the rest of each element (libvirt's
/// `match`, `check`, `<cache>`, `<shares>`, `<memnode>`, ...) is kept.
extension LibvirtXML {
    /// The CPU mode to write: the spec's, or `custom` when it names a model.
    static func wantedCPUMode(_ model: DomainModel) -> CPUMode? {
        model.cpuMode ?? (model.cpu.model != nil ? .custom : nil)
    }

    /// `<cpu>` for a new definition (`existing` nil) or merged into an existing one; `nil` when
    /// there is nothing to write (no `<cpu>` for a new domain, the existing one untouched).
    static func mergedCPU(_ model: DomainModel, existing: XElement?) -> XElement? {
        let mode = wantedCPUMode(model)
        let cells = model.memoryTuning.numaCells
        let owned = mode != nil || model.cpu.model != nil || model.cpu.features != nil || model.cpu.topology != nil || cells != nil
        guard owned else { return nil }
        var cpu: XElement
        if let existing, mode == nil || (existing[attribute: "mode"] ?? CPUMode.custom.rawValue) == mode?.rawValue {
            cpu = existing
        } else {
            // A new element, or another mode: the old mode's details (its model, `match`,
            // `check`) do not carry over; what the spec leaves open (topology, features, cells) does.
            let attributes: [(String, String)] = mode.map { [("mode", $0.rawValue)] } ?? []
            cpu = XElement("cpu", attributes)
            if let existing {
                for name in ["topology", "feature", "numa"] { for child in existing.children(named: name) { cpu.append(child) } }
            }
        }
        if let wanted = model.cpu.model {
            var attributes: [(String, String)] = []
            if let fallback = wanted.fallback ?? cpu.child("model")?[attribute: "fallback"].flatMap(CPUFallback.init(rawValue:)) {
                attributes.append(("fallback", fallback.rawValue))
            }
            cpu.setChild("model", XElement("model", attributes, text: wanted.name))
        }
        if let topology = model.cpu.topology {
            cpu.setChild("topology", XElement("topology", [
                ("sockets", String(topology.sockets)), ("dies", String(topology.dies)),
                ("cores", String(topology.cores)), ("threads", String(topology.threads)),
            ]))
        }
        if let features = model.cpu.features {
            cpu.removeElements { $0.name == "feature" }
            for feature in features { cpu.append(XElement("feature", [("policy", feature.policy.rawValue), ("name", feature.name)])) }
        }
        if let cells {
            var numa = XElement("numa")
            for (index, cell) in cells.enumerated() {
                numa.append(XElement("cell", [("id", String(index)), ("cpus", cell.cpus.description),
                                              ("memory", String(kib(cell.memory))), ("unit", "KiB")]))
            }
            cpu.setChild("numa", cells.isEmpty ? nil : numa)
        }
        return cpu
    }

    /// `<memoryBacking>`, `<cputune>` and `<numatune>` of a new definition, in libvirt's order.
    static func tuningElements(_ model: DomainModel) -> [XElement] {
        var root = XElement("domain")
        mergeTuning(model, into: &root)
        return root.elements
    }

    /// Writes the owned parts of `<memoryBacking>`, `<iothreads>`, `<cputune>` and `<numatune>` into a domain;
    /// an element left empty is removed.
    static func mergeTuning(_ model: DomainModel, into root: inout XElement) {
        let tuning = model.memoryTuning
        if tuning.hugepages != nil || tuning.locked != nil {
            var backing = root.child("memoryBacking") ?? XElement("memoryBacking")
            switch tuning.hugepages {
            case .off?: backing.setChild("hugepages", nil)
            case .defaultSize?: backing.setChild("hugepages", XElement("hugepages"))
            case .size(let size)?:
                backing.setChild("hugepages", XElement("hugepages", children: [
                    .element(XElement("page", [("size", String(kib(size))), ("unit", "KiB")])),
                ]))
            case nil: break
            }
            if let locked = tuning.locked { backing.setChild("locked", locked ? XElement("locked") : nil) }
            root.setChild("memoryBacking", backing.elements.isEmpty ? nil : backing)
        }
        if model.cpu.managesPinning {
            var tune = root.child("cputune") ?? XElement("cputune")
            if let pins = model.cpu.vcpuPins {
                tune.removeElements { $0.name == "vcpupin" }
                for pin in pins { tune.append(XElement("vcpupin", [("vcpu", String(pin.vcpu)), ("cpuset", pin.cpuset.description)])) }
            }
            if let emulator = model.cpu.emulatorPin {
                tune.setChild("emulatorpin", XElement("emulatorpin", [("cpuset", emulator.description)]))
            }
            root.setChild("cputune", tune.elements.isEmpty ? nil : tune)
        }
        if let iothreads = model.cpu.iothreads {
            // Explicit ids (an adopted VM's, or the escape hatch's) stay while they fit the count;
            // more ids than threads would make libvirt refuse the definition.
            if let ids = root.child("iothreadids"), ids.children(named: "iothread").count > iothreads { root.setChild("iothreadids", nil) }
            root.setChild("iothreads", iothreads == 0 ? nil : XElement("iothreads", text: String(iothreads)))
        }
        if let numaTune = tuning.numaTune {
            var tune = root.child("numatune") ?? XElement("numatune")
            tune.setChild("memory", XElement("memory", [("mode", numaTune.mode.rawValue), ("nodeset", numaTune.nodeset.description)]))
            root.setChild("numatune", tune)
        }
    }

    /// Points a `<graphics>` element at `address`: the `listen` attribute and one
    /// `<listen type='address'>` child (libvirt keeps both in step).
    static func setListen(_ address: String, on element: inout XElement) {
        element[attribute: "listen"] = address
        element.removeElements { $0.name == "listen" }
        element.children.insert(.element(XElement("listen", [("type", "address"), ("address", address)])), at: 0)
    }
}
