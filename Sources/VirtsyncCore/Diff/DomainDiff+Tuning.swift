/// CPU model, features, topology, pinning, NUMA, memory backing and the graphics listen
/// address: compared only where the spec sets them (a `nil` field is open).
extension DomainDiff {
    /// Plan lines for a new domain.
    static func tuningCreationFields(_ vm: DomainModel) -> [FieldChange] {
        var out: [FieldChange] = []
        func field(_ name: String, _ value: String?) {
            if let value { out.append(FieldChange(field: name, before: nil, after: value, disruption: .none)) }
        }
        field("cpu.model", vm.cpu.model.map(describeModel))
        field("cpu.features", vm.cpu.features.map(describeFeatures))
        field("cpu.topology", vm.cpu.topology?.description)
        field("cpu.pinning.vcpus", vm.cpu.vcpuPins.map(describePins))
        field("cpu.pinning.emulator", vm.cpu.emulatorPin?.description)
        field("iothreads", vm.cpu.iothreads.map { String($0) })
        field("numa.cells", vm.memoryTuning.numaCells.map(describeCells))
        field("numa.tune", vm.memoryTuning.numaTune?.description)
        field("memoryBacking.hugepages", vm.memoryTuning.hugepages?.description)
        field("memoryBacking.locked", vm.memoryTuning.locked.map { String($0) })
        if vm.graphics != .none { field("graphics.listen", vm.graphicsListen) }
        return out
    }

    /// Adds the changes of these fields to `r`: pinning live on a running guest (with its live
    /// operations), everything else at the next boot.
    static func compareTuning(desired vm: DomainModel, observed seen: ObservedDomain, into r: inout Result) {
        let old = seen.model
        let running = seen.state.isActive
        let boot: Disruption = running ? .nextBoot : .none
        func add(_ field: String, _ a: String?, _ b: String?, _ d: Disruption) {
            if a != b { r.changes.append(FieldChange(field: field, before: a, after: b, disruption: running ? d : .none)) }
        }

        if var wanted = vm.cpu.model {
            // A fallback the spec leaves out is libvirt's to choose.
            if wanted.fallback == nil { wanted.fallback = old.cpu.model?.fallback }
            add("cpu.model", old.cpu.model.map(describeModel), describeModel(wanted), boot)
        }
        if let features = vm.cpu.features { add("cpu.features", describeFeatures(old.cpu.features ?? []), describeFeatures(features), boot) }
        if let topology = vm.cpu.topology { add("cpu.topology", old.cpu.topology?.description, topology.description, boot) }
        // libvirt can add an I/O thread to a running guest, but a disk moves to it only at the
        // next boot: the count and the disks' threads change together, at the next boot.
        if let iothreads = vm.cpu.iothreads { add("iothreads", String(old.cpu.iothreads ?? 0), String(iothreads), boot) }

        if let pins = vm.cpu.vcpuPins {
            let before = old.cpu.vcpuPins ?? []
            if before != pins {
                let removed = before.contains { pin in !pins.contains { $0.vcpu == pin.vcpu } }
                let online = seen.live?.vcpus ?? old.vcpus
                let changed = pins.filter { !before.contains($0) }
                // Pinning a vCPU that is online is live; unpinning needs the host's CPU list,
                // which the plan does not have, so a removed pin waits for the next boot.
                let canLive = running && !removed && changed.allSatisfy { $0.vcpu < online }
                add("cpu.pinning.vcpus", describePins(before), describePins(pins), canLive ? .live : boot)
                if canLive { r.live += changed.map { LiveOperation.pinVcpu(vcpu: $0.vcpu, cpuset: $0.cpuset) } }
            } else if running, let live = seen.live {
                // The definition is right but the running guest is pinned otherwise (a live
                // call that did not happen). A vCPU without a live pin is not compared: libvirt
                // drops a pin to every host CPU from the live XML.
                let stale = pins.filter { pin in live.vcpuPins.contains { $0.vcpu == pin.vcpu && $0.cpuset != pin.cpuset } }
                if !stale.isEmpty {
                    r.changes.append(FieldChange(field: "cpu.pinning.vcpus.live", before: describePins(live.vcpuPins), after: describePins(pins),
                                                 disruption: .live))
                    r.live += stale.map { LiveOperation.pinVcpu(vcpu: $0.vcpu, cpuset: $0.cpuset) }
                }
            }
        }
        if let emulator = vm.cpu.emulatorPin {
            if old.cpu.emulatorPin != emulator {
                add("cpu.pinning.emulator", old.cpu.emulatorPin?.description, emulator.description, .live)
                if running { r.live.append(.pinEmulator(emulator)) }
            } else if running, let livePin = seen.live?.emulatorPin, livePin != emulator {
                r.changes.append(FieldChange(field: "cpu.pinning.emulator.live", before: livePin.description, after: emulator.description,
                                             disruption: .live))
                r.live.append(.pinEmulator(emulator))
            }
        }

        let tuning = vm.memoryTuning, seenTuning = old.memoryTuning
        if let cells = tuning.numaCells { add("numa.cells", describeCells(seenTuning.numaCells ?? []), describeCells(cells), boot) }
        if let tune = tuning.numaTune { add("numa.tune", seenTuning.numaTune?.description, tune.description, boot) }
        if let pages = tuning.hugepages {
            add("memoryBacking.hugepages", (seenTuning.hugepages ?? .off).description, pages.description, boot)
        }
        if let locked = tuning.locked { add("memoryBacking.locked", String(seenTuning.locked ?? false), String(locked), boot) }
        if let listen = vm.graphicsListen, vm.graphics != .none, old.graphics == vm.graphics {
            add("graphics.listen", old.graphicsListen, listen, boot)
        }
    }

    static func describeModel(_ model: CPUModelChoice) -> String {
        model.name + (model.fallback.map { " (fallback \($0.rawValue))" } ?? "")
    }

    static func describeFeatures(_ features: [CPUFeature]) -> String {
        features.isEmpty ? "none" : features.map { "\($0.policy.rawValue) \($0.name)" }.joined(separator: ", ")
    }

    static func describePins(_ pins: [VCPUPin]) -> String {
        pins.isEmpty ? "none" : pins.map { "\($0.vcpu)→\($0.cpuset)" }.joined(separator: ", ")
    }

    static func describeCells(_ cells: [NUMACell]) -> String {
        cells.isEmpty ? "none" : cells.map { "cpus \($0.cpus) \($0.memory)" }.joined(separator: "; ")
    }
}
