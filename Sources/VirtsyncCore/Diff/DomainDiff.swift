/// Field-by-field comparison of a desired domain with an observed one, classifying each change
/// by disruption and listing the live operations that apply it to a running guest.
enum DomainDiff {
    struct Result {
        var changes: [FieldChange] = []
        var live: [LiveOperation] = []
    }

    /// Maximum memory to write: the spec's, else at least `memory` while keeping a higher one.
    static func effectiveMaxMemory(_ vm: DomainModel, _ seen: DomainModel?) -> ByteSize {
        if let m = vm.maxMemory { return m }
        return max(vm.memory, seen?.maxMemory ?? seen?.memory ?? vm.memory)
    }

    /// Maximum vCPUs to write: the spec's, else at least `vcpus` while keeping a higher one.
    static func effectiveMaxVcpus(_ vm: DomainModel, _ seen: DomainModel?) -> Int {
        if let m = vm.maxVcpus { return m }
        return max(vm.vcpus, seen?.maxVcpus ?? seen?.vcpus ?? vm.vcpus)
    }

    /// Interfaces of the spec; where the spec gives no MAC, the one libvirt generated for the
    /// interface at the same position and source is kept.
    static func interfacesKeepingMACs(_ wanted: [InterfaceModel], _ seen: [InterfaceModel]) -> [InterfaceModel] {
        wanted.enumerated().map { i, nic in
            var out = nic
            if out.mac == nil, i < seen.count, seen[i].source == nic.source { out.mac = seen[i].mac }
            return out
        }
    }

    /// Everything a new domain gets, for the plan's field list.
    static func creationFields(_ vm: DomainModel) -> [FieldChange] {
        var out = [FieldChange(field: "vcpus", before: nil, after: String(vm.vcpus), disruption: .none)]
        if let m = vm.maxVcpus { out.append(FieldChange(field: "maxVcpus", before: nil, after: String(m), disruption: .none)) }
        out.append(FieldChange(field: "memory", before: nil, after: vm.memory, disruption: .none))
        if let m = vm.maxMemory { out.append(FieldChange(field: "maxMemory", before: nil, after: m, disruption: .none)) }
        if let m = vm.machine { out.append(FieldChange(field: "machine", before: nil, after: m, disruption: .none)) }
        out.append(FieldChange(field: "firmware", before: nil, after: vm.firmware.rawValue, disruption: .none))
        if let l = vm.loader { out.append(FieldChange(field: "loader", before: nil, after: l, disruption: .none)) }
        if let c = vm.cpuMode { out.append(FieldChange(field: "cpu", before: nil, after: c.rawValue, disruption: .none)) }
        if vm.graphics != .none { out.append(FieldChange(field: "graphics", before: nil, after: vm.graphics.rawValue, disruption: .none)) }
        if let p = vm.graphicsPassword { out.append(FieldChange(field: "graphics.password", before: nil, after: p.description, disruption: .none)) }
        if vm.autostart { out.append(FieldChange(field: "autostart", before: nil, after: "true", disruption: .none)) }
        out += HatchDiff.creation(Hatch.leaves(vm.extraXML), document: .domain)
        out += platformCreationFields(vm.platform)
        for (i, d) in vm.disks.enumerated() {
            out.append(FieldChange(field: "disks[\(i)]", before: nil, after: describe(d), disruption: .none))
        }
        for (i, n) in vm.interfaces.enumerated() {
            out.append(FieldChange(field: "interfaces[\(i)]", before: nil, after: describe(n), disruption: .none))
        }
        out += tuningCreationFields(vm)
        out.append(FieldChange(field: "power", before: nil, after: vm.power.rawValue, disruption: .none))
        return out
    }

    /// - Parameter compareHatch: compare the raw XML (`false` for a domain virtsync does not
    ///   manage: nothing records which of its elements would be the spec's).
    static func compare(desired vm: DomainModel, observed seen: ObservedDomain, compareHatch: Bool = true) -> Result {
        let old = seen.model
        let running = seen.state.isActive
        var r = Result()
        // On a VM that is not running, every change simply lands in the definition.
        let boot: Disruption = running ? .nextBoot : .none
        func add(_ field: String, _ a: String?, _ b: String?, _ d: Disruption) {
            if a != b { r.changes.append(FieldChange(field: field, before: a, after: b, disruption: running ? d : .none)) }
        }
        func add(_ field: String, _ a: ByteSize, _ b: ByteSize, _ d: Disruption) {
            if a != b { r.changes.append(FieldChange(field: field, before: a, after: b, disruption: running ? d : .none)) }
        }

        let wantMaxMem = effectiveMaxMemory(vm, old)
        let oldMaxMem = old.maxMemory ?? old.memory
        add("maxMemory", oldMaxMem, wantMaxMem, boot)
        if vm.memory != old.memory {
            let ceiling = seen.live?.maxMemory ?? oldMaxMem
            if running && vm.memory <= ceiling {
                add("memory", old.memory, vm.memory, .live)
                r.live.append(.setMemory(vm.memory))
            } else {
                add("memory", old.memory, vm.memory, boot)
            }
        }
        // The running guest's balloon is not compared: without a guest driver the balloon never
        // reaches its target, and comparing it would plan the same change forever.

        let wantMaxCPU = effectiveMaxVcpus(vm, old)
        let oldMaxCPU = old.maxVcpus ?? old.vcpus
        add("maxVcpus", String(oldMaxCPU), String(wantMaxCPU), boot)
        if vm.vcpus != old.vcpus {
            let ceiling = seen.live?.maxVcpus ?? oldMaxCPU
            // Hot-plug up to the maximum; hot-unplug needs guest cooperation, so decreases wait for a boot.
            if running && vm.vcpus <= ceiling && vm.vcpus > (seen.live?.vcpus ?? old.vcpus) {
                add("vcpus", String(old.vcpus), String(vm.vcpus), .live)
                r.live.append(.setVcpus(vm.vcpus))
            } else {
                add("vcpus", String(old.vcpus), String(vm.vcpus), boot)
            }
        } else if running, let live = seen.live, live.vcpus < vm.vcpus, vm.vcpus <= live.maxVcpus {
            // The definition is right but the running guest has fewer vCPUs (a hot-plug that did
            // not happen, e.g. apply was stopped between the define and the live call).
            r.changes.append(FieldChange(field: "vcpus.live", before: String(live.vcpus), after: String(vm.vcpus), disruption: .live))
            r.live.append(.setVcpus(vm.vcpus))
        }

        if let m = vm.machine { add("machine", old.machine, m, boot) }
        add("firmware", old.firmware.rawValue, vm.firmware.rawValue, boot)
        add("loader", old.loader, vm.loader, boot)
        if let c = vm.cpuMode { add("cpu", old.cpuMode?.rawValue, c.rawValue, boot) }   // open when not given
        add("graphics", old.graphics.rawValue, vm.graphics.rawValue, boot)
        let seenPassword = seen.marker?.graphicsPassword.flatMap(SecretMaterial.init(markerValue:))
        if seenPassword != vm.graphicsPassword {
            // QEMU takes a new password on a running display; a password removed, or one for a
            // display that is itself changing, waits for the next boot.
            let canLive = running && old.graphics == vm.graphics && vm.graphics != .none && vm.graphicsPassword != nil
            add("graphics.password", seenPassword?.description, vm.graphicsPassword?.description, canLive ? .live : boot)
            if canLive { r.live.append(.setGraphicsPassword) }
        }
        compareTuning(desired: vm, observed: seen, into: &r)
        add("console", String(old.serialConsole), String(vm.serialConsole), boot)
        add("autostart", String(old.autostart), String(vm.autostart), .none)

        // libvirt forces CD-ROMs read-only, whatever the spec says.
        func norm(_ d: DiskModel) -> DiskModel { var d = d; if d.cdrom { d.readonly = true }; return d }
        let diskCount = max(vm.disks.count, old.disks.count)
        for i in 0..<diskCount {
            var a = i < old.disks.count ? norm(old.disks[i]) : nil
            let b = i < vm.disks.count ? norm(vm.disks[i]) : nil
            // Encryption is open when the spec does not manage it: an update keeps what is there.
            if let wanted = b, wanted.encryption == nil, a?.source == wanted.source { a?.encryption = nil }
            // Options the spec leaves open are libvirt's to choose.
            if let wanted = b, let seenOptions = a?.options { a?.options = seenOptions.masked(by: wanted.options) }
            guard a != b else { continue }
            if a == nil, let b, running, Self.hotPluggable(b, existing: old.disks) {
                // A disk added at the end goes into the running guest as well.
                add("disks[\(i)]", nil, describe(b), .live)
                r.live.append(.attachDisk(target: b.target))
            } else if let a, let b, running, Self.onlyIOTuneDiffers(a, b) {
                // QEMU takes new limits on a running disk.
                add("disks[\(i)].iotune", a.options?.iotune?.summary ?? "none", b.options?.iotune?.summary ?? "none", .live)
                r.live.append(.setIOTune(target: b.target, b.options?.iotune ?? IOTune()))
            } else {
                add("disks[\(i)]", a.map(describe), b.map(describe), boot)
            }
        }

        compareInterfaces(desired: vm, observed: seen, into: &r)

        comparePlatform(vm.platform, old.platform, boot: boot, add: add)

        if compareHatch {
            // Raw XML is written to the persistent definition only: it takes effect at the next boot.
            for change in HatchDiff.changes(desired: Hatch.leaves(vm.extraXML), observed: seen.hatch ?? ObservedHatch(), document: .domain) {
                add(change.field, change.before, change.after, boot)
            }
        }
        return r
    }
}

extension DomainDiff {
    /// Whether a new disk can be attached to the running guest: a disk (not a CD-ROM, whose
    /// medium changes instead) on a bus QEMU plugs in while running. A SCSI disk only on a
    /// controller the guest has already (a first one would get libvirt's default model).
    static func hotPluggable(_ disk: DiskModel, existing: [DiskModel]) -> Bool {
        guard !disk.cdrom else { return false }
        switch disk.bus {
        case .virtio: return true
        case .scsi, .virtioScsi: return existing.contains { $0.bus == disk.bus }
        case .sata, .ide: return false
        }
    }

    /// Whether two disks differ in their I/O limits only.
    static func onlyIOTuneDiffers(_ a: DiskModel, _ b: DiskModel) -> Bool {
        func stripped(_ d: DiskModel) -> DiskModel {
            var d = d
            d.options?.iotune = nil
            if d.options?.isEmpty == true { d.options = nil }
            return d
        }
        return stripped(a) == stripped(b)
    }
}

/// One line per disk for plans.
func describe(_ d: DiskModel) -> String {
    let src: String
    switch d.source {
    case .volume(let p, let v): src = "volume \(p)/\(v)"
    case .file(let path): src = "file \(path)"
    case .block(let path): src = "block \(path)"
    case .network(let disk): src = "network \(disk.summary)"
    }
    return "\(d.target) \(d.bus.rawValue)\(d.cdrom ? " cdrom" : "")\(d.readonly ? " ro" : "") \(src)\(d.encryption == nil ? "" : " encrypted")\(d.options?.summary ?? "")"
}
