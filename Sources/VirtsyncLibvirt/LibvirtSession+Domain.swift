import VirtsyncXML
import CLibvirt
import Foundation
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Domain steps.
    ///
    /// - `create`: define with the marker and set autostart; starting is a separate step. A
    ///   domain of that name that carries the marker is updated instead (crash recovery).
    /// - `update`: redefine from the current definition with only the owned elements replaced
    ///   (see `LibvirtXML.updatedDomain`), set autostart, then run the live operations when the
    ///   domain is active.
    /// - `replace`: destroy, undefine and define afresh from the model (left stopped; a `start`
    ///   step follows). The UUID is kept when the model leaves it open.
    /// - `start`: succeeds when already running; removes the stop marker. `stop`: destroy, after
    ///   an ACPI shutdown with `options.shutdownTimeout` when that is not zero, then write the
    ///   stop marker (`LibvirtXML.stopMarker`) into the persistent definition, so that the
    ///   domain reads back as stopped by virtsync rather than shut down or destroyed.
    ///   `restart`: stop (without the marker), then start.
    /// - `delete`: shut down like `stop` when active, undefine with managed save, snapshot and checkpoint
    ///   metadata and NVRAM; volumes are never deleted here. A missing domain is a success.
    /// Every action except `create` of a new domain refuses a domain without the marker.
    func applyDomain(_ step: PlanStep) async throws {
        let name = step.resource.name
        let domainType = self.domainType
        switch step.action {
        case .create, .update:
            guard case .domain(let model, let live, let marker) = step.payload else { throw missingPayload(step) }
            let mustExist = step.action == .update
            let active = try await run("\(step.action.rawValue) domain \(name)") { call in
                try LibvirtSession.define(model, marker: marker, domainType: domainType, mustExist: mustExist, call)
            }
            if active && step.action == .update {
                for operation in live { try await perform(operation, model: model) }
            }
        case .replace:
            guard case .domain(let model, _, let marker) = step.payload else { throw missingPayload(step) }
            try await run("replace domain \(name)") { call in
                let operation = "replace domain \(name)"
                var model = model
                if let domain = try call.domain(name) {
                    try LibvirtSession.requireMarker(domain, name, action: "replace", call)
                    // A UUID the spec leaves open stays the same: it is the VM's identity.
                    if model.uuid == nil { model.uuid = try call.uuid(operation) { virDomainGetUUIDString(domain.pointer, $0) } }
                    try LibvirtSession.destroyIfActive(domain, operation, call)
                    try LibvirtSession.undefine(domain, operation, call)
                }
                _ = try LibvirtSession.define(model, marker: marker, domainType: domainType, mustExist: false, call)
            }
        case .start:
            try await start(name)
        case .stop:
            try await stop(name)
            try await markStopped(name)
        case .restart:
            try await stop(name)
            try await start(name)
        case .suspend, .resume:
            try await setPaused(name, step.action == .suspend)
        case .delete:
            // A running guest is shut down the way `stop` does it (ACPI first, when allowed).
            if options.shutdownTimeout > .zero { try await stopIfManaged(name) }
            try await runSideBySide("delete domain \(name)") { call in
                let operation = "delete domain \(name)"
                guard let domain = try call.domain(name) else { return }
                try LibvirtSession.requireMarker(domain, name, action: "delete", call)
                try LibvirtSession.destroyIfActive(domain, operation, call)
                try LibvirtSession.undefine(domain, operation, call)
            }
        case .migrate, .adopt:
            throw unsupported(step)
        }
    }

    private func start(_ name: String) async throws {
        try await runSideBySide("start domain \(name)") { call in
            let operation = "start domain \(name)"
            let domain = try call.existingDomain(name, operation)
            let definition = try LibvirtSession.managedDefinition(domain, name, action: "start", call)
            if try !call.isActive(domain: domain, operation) {
                try call.check(virDomainCreate(domain.pointer), operation)
            }
            // Removed only once the domain runs: a failed start leaves it marked, so the next
            // pass still knows that virtsync stopped it and does not take it for a crash.
            if LibvirtXML.metadataElement(in: definition, named: LibvirtXML.stopMarkerName,
                                          namespace: LibvirtXML.stopMarkerNamespace) != nil {
                try call.check(virDomainSetMetadata(domain.pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), nil,
                                                    LibvirtXML.stopMarkerPrefix, LibvirtXML.stopMarkerNamespace,
                                                    VIR_DOMAIN_AFFECT_CONFIG.rawValue),
                               "remove the stop marker of domain \(name)")
            }
        }
    }

    /// Writes the stop marker into the persistent definition of a domain virtsync stopped.
    /// A domain that is gone (a transient one vanishes when stopped) is left alone.
    private func markStopped(_ name: String) async throws {
        let timestamp = ISO8601DateFormatter().string(from: Date())
        let operation = "mark domain \(name) as stopped by virtsync"
        try await run(operation) { call in
            guard let domain = try call.domain(name) else { return }
            try call.check(virDomainSetMetadata(domain.pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue),
                                                LibvirtXML.stopMarker(at: timestamp), LibvirtXML.stopMarkerPrefix,
                                                LibvirtXML.stopMarkerNamespace, VIR_DOMAIN_AFFECT_CONFIG.rawValue),
                           operation)
        }
    }

    /// `stop`, but a domain that is gone is fine (deleting it is then a no-op).
    private func stopIfManaged(_ name: String) async throws {
        let exists = try await run("look up domain \(name)") { call in try call.domain(name) != nil }
        if exists { try await stop(name) }
    }

    private func stop(_ name: String) async throws {
        let operation = "stop domain \(name)"
        if options.shutdownTimeout > .zero {
            let shuttingDown = try await run(operation) { call -> Bool in
                guard let domain = try call.domain(name) else { return false }
                try LibvirtSession.requireMarker(domain, name, action: "stop", call)
                guard try call.isActive(domain: domain, operation) else { return false }
                // A guest that ignores ACPI is destroyed below anyway.
                if virDomainShutdown(domain.pointer) < 0 { _ = call.error(operation) }
                return true
            }
            if shuttingDown {
                let clock = ContinuousClock()
                let deadline = clock.now + options.shutdownTimeout
                while clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(250))
                    let active = try await run(operation) { call -> Bool in
                        guard let domain = try call.domain(name) else { return false }
                        return try call.isActive(domain: domain, operation)
                    }
                    if !active { return }
                }
            }
        }
        try await runSideBySide(operation) { call in
            let domain = try call.existingDomain(name, operation)
            try LibvirtSession.requireMarker(domain, name, action: "stop", call)
            try LibvirtSession.destroyIfActive(domain, operation, call)
        }
    }

    /// Applies one live operation to a running domain (nothing when it is not running).
    private func perform(_ live: LiveOperation, model: DomainModel) async throws {
        let name = model.name
        let operation: String
        switch live {
        case .setMemory(let size): operation = "set memory of domain \(name) to \(size)"
        case .setVcpus(let count): operation = "set vCPUs of domain \(name) to \(count)"
        case .setLink(let mac, let up): operation = "set link \(mac) of domain \(name) \(up ? "up" : "down")"
        case .setGraphicsPassword: operation = "set the \(model.graphics.rawValue) password of domain \(name)"
        case .setIOTune(let target, _): operation = "set the I/O limits of disk \(target) of domain \(name)"
        case .pinVcpu(let vcpu, let cpuset): operation = "pin vCPU \(vcpu) of domain \(name) to host CPUs \(cpuset)"
        case .pinEmulator(let cpuset): operation = "pin the emulator of domain \(name) to host CPUs \(cpuset)"
        case .setInterfaceBandwidth(let mac, _): operation = "set the bandwidth of interface \(mac) of domain \(name)"
        case .attachDisk(let target): operation = "attach disk \(target) to the running domain \(name)"
        case .attachInterface(let mac, let index): operation = "attach interface \(mac ?? "#\(index)") to the running domain \(name)"
        }
        try await run(operation) { call in
            let domain = try call.existingDomain(name, operation)
            guard try call.isActive(domain: domain, operation) else { return }
            let flags = VIR_DOMAIN_AFFECT_LIVE.rawValue
            switch live {
            case .setMemory(let size):
                try call.check(virDomainSetMemoryFlags(domain.pointer, UInt(LibvirtXML.kib(size)), flags), operation)
            case .setVcpus(let count):
                try call.check(virDomainSetVcpusFlags(domain.pointer, UInt32(max(count, 0)), flags), operation)
            case .setLink(let mac, let up):
                let xml = try call.domainXML(domain, inactive: false, operation)
                let root = try parsing("live domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(xml) }
                guard var interface = root.child("devices")?.children(named: "interface").first(where: {
                    $0.child("mac")?[attribute: "address"]?.lowercased() == mac.lowercased()
                }) else {
                    throw HypervisorError(code: .notFound, message: "no interface with MAC \(mac)", operation: operation)
                }
                interface.setChild("link", XElement("link", [("state", up ? "up" : "down")]))
                try call.check(virDomainUpdateDeviceFlags(domain.pointer, interface.serialized(), flags), operation)
            case .setGraphicsPassword:
                guard let password = model.graphicsPassword, password.value != nil else {
                    throw HypervisorError(code: .other, message: "the password was not read on this host", operation: operation)
                }
                let xml = try call.domainXML(domain, inactive: false, operation)
                let root = try parsing("live domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(xml) }
                guard var graphics = root.child("devices")?.children(named: "graphics").first(where: {
                    $0[attribute: "type"] == model.graphics.rawValue
                }) else {
                    throw HypervisorError(code: .notFound, message: "the running domain has no \(model.graphics.rawValue) display", operation: operation)
                }
                LibvirtXML.setPassword(password, on: &graphics)
                try call.check(virDomainUpdateDeviceFlags(domain.pointer, graphics.serialized(), flags), operation)
            case .setIOTune(let target, let limits):
                try LibvirtSession.setBlockIoTune(domain, target: target, limits, flags: flags, operation, call)
            case .pinVcpu(let vcpu, let cpuset):
                // `AFFECT_CURRENT` (0) is the running guest here (checked above); the test
                // driver takes no other flag. The definition already has the pin.
                var map = LibvirtSession.cpuMap(cpuset)
                try call.check(virDomainPinVcpuFlags(domain.pointer, UInt32(max(vcpu, 0)), &map, Int32(map.count), 0), operation)
            case .pinEmulator(let cpuset):
                var map = LibvirtSession.cpuMap(cpuset)
                try call.check(virDomainPinEmulator(domain.pointer, &map, Int32(map.count), 0), operation)
            case .setInterfaceBandwidth(let mac, let bandwidth):
                try LibvirtSession.setInterfaceBandwidth(domain, mac: mac, bandwidth, flags: flags, operation, call)
            case .attachDisk, .attachInterface:
                try LibvirtSession.hotPlug(live, domain: domain, name: name, flags: flags, operation, call)
            }
        }
    }

    /// Defines a domain (new, or merged into the existing definition), sets autostart and
    /// returns whether it is active.
    static func define(_ model: DomainModel, marker: OwnershipMarker, domainType: String, mustExist: Bool,
                       _ call: LibvirtCall) throws -> Bool {
        let operation = "define domain \(model.name)"
        let formats = try volumeFormats(for: model, call)
        let xml: String
        if let existing = mustExist ? try call.existingDomain(model.name, operation) : try call.domain(model.name) {
            // Secure: a redefinition must keep the display password the spec does not manage.
            let current = try call.domainXML(existing, inactive: true, secure: true, operation)
            let root = try requireMarker(xml: current, model.name, action: "update")
            // The HA epoch belongs to HA, not to the spec: an update keeps it.
            var marker = marker
            if marker.haEpoch == nil { marker.haEpoch = LibvirtXML.marker(in: root)?.haEpoch }
            xml = try parsing("domain \(model.name)") { () throws(LibvirtXMLError) in
                try LibvirtXML.updatedDomain(current: current, model: model, marker: marker, volumeFormats: formats)
            }
        } else {
            xml = LibvirtXML.domain(model, marker: marker, domainType: domainType, volumeFormats: formats)
        }
        guard let pointer = virDomainDefineXML(call.conn, xml) else { throw call.error(operation) }
        let domain = LibvirtObject(pointer, .domain)
        try call.check(virDomainSetAutostart(domain.pointer, model.autostart ? 1 : 0), "set autostart of domain \(model.name)")
        return try call.isActive(domain: domain, operation)
    }

    /// Formats of the volumes a domain's disks use, for `<driver type>`; missing volumes are
    /// left out.
    static func volumeFormats(for model: DomainModel, _ call: LibvirtCall) throws -> [String: VolumeFormat] {
        var formats: [String: VolumeFormat] = [:]
        for disk in model.disks {
            guard case .volume(let poolName, let volumeName) = disk.source,
                  let pool = try call.pool(poolName),
                  let volume = try call.volume(volumeName, in: pool, poolName: poolName) else { continue }
            let xml = try call.volumeXML(volume, "read volume \(poolName)/\(volumeName)")
            if let parsed = try? LibvirtXML.parseVolume(xml, pool: poolName) { formats[parsed.model.key] = parsed.model.format }
        }
        return formats
    }

    /// Throws `.rejected` unless the domain's persistent definition carries the marker.
    static func requireMarker(_ domain: LibvirtObject, _ name: String, action: String, _ call: LibvirtCall) throws {
        _ = try managedDefinition(domain, name, action: action, call)
    }

    /// The domain's persistent definition, parsed; throws `.rejected` unless it carries the marker.
    static func managedDefinition(_ domain: LibvirtObject, _ name: String, action: String, _ call: LibvirtCall) throws -> XElement {
        try requireMarker(xml: try call.domainXML(domain, inactive: true, "\(action) domain \(name)"), name, action: action)
    }

    /// Throws `.rejected` unless the persistent definition `xml` carries the marker; returns it parsed.
    @discardableResult
    static func requireMarker(xml: String, _ name: String, action: String) throws -> XElement {
        let operation = "\(action) domain \(name)"
        let root = try parsing("domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(xml) }
        guard LibvirtXML.markerElement(in: root) != nil else {
            throw HypervisorError(code: .rejected, message: "domain \(name) is not managed by virtsync (no ownership marker)",
                                  operation: operation)
        }
        return root
    }

    /// Destroys a running domain; one that stopped meanwhile is fine.
    static func destroyIfActive(_ domain: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws {
        guard try call.isActive(domain: domain, operation) else { return }
        if virDomainDestroy(domain.pointer) < 0 {
            let error = call.error(operation)
            if try call.isActive(domain: domain, operation) { throw error }
        }
    }

    /// Undefines with every cleanup flag, retrying with fewer on drivers that lack some.
    static func undefine(_ domain: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws {
        let basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
        let full = basic | VIR_DOMAIN_UNDEFINE_NVRAM.rawValue | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue
        for flags in [full, basic, 0] {
            if virDomainUndefineFlags(domain.pointer, flags) == 0 { return }
            let error = call.error(operation)
            guard flags != 0, LibvirtErrors.isUnsupported(error) else { throw error }
        }
    }
}
