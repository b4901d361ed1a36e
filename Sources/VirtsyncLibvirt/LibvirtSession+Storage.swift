import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Pool steps.
    ///
    /// - `create`, `update`, `replace`: define, build (`dir` only: creates the directory, never
    ///   touches its content; `logical` and `netfs` pools are only defined and started, their
    ///   volume group or export must exist), set autostart, start. An existing pool whose definition differs from the
    ///   model (autostart aside) is redefined under its UUID; when it is active it is destroyed
    ///   and started again, because libvirt applies a pool's definition only at start. For a
    ///   `dir` pool that is bookkeeping only; for `netfs` it unmounts the export and for
    ///   `logical` it deactivates the volume group, which fails (busy) while guests use it.
    /// - `replace` (a change libvirt cannot make in place, such as the pool type): destroy and
    ///   undefine, then as `create`; the data stays where it is.
    /// - `delete`: destroy when active and undefine. The pool's data is never deleted.
    func applyPool(_ step: PlanStep) async throws {
        let name = step.resource.name
        let operation = "\(step.action.rawValue) pool \(name)"
        switch step.action {
        case .create, .update, .replace:
            guard case .pool(let model) = step.payload else { throw missingPayload(step) }
            let replace = step.action == .replace
            // Raw XML the plan removes is not visible in the spec's model: the plan's change says so.
            let hatchChanged = step.changes.contains { $0.field.hasPrefix("xml.") }
            try await run(operation, timeout: options.storageTimeout) { call in
                if replace, let pool = try call.pool(name) {
                    if try call.isActive(pool: pool, operation) { try call.check(virStoragePoolDestroy(pool.pointer), operation) }
                    try call.check(virStoragePoolUndefine(pool.pointer), operation)
                }
                try LibvirtSession.define(model, hatchChanged: hatchChanged, operation, call)
            }
        case .delete:
            try await run(operation) { call in
                guard let pool = try call.pool(name) else { return }
                if try call.isActive(pool: pool, operation) { try call.check(virStoragePoolDestroy(pool.pointer), operation) }
                try call.check(virStoragePoolUndefine(pool.pointer), operation)
            }
        case .start, .stop, .restart:
            try await run(operation) { call in
                guard let pool = try call.pool(name) else {
                    throw HypervisorError(code: .notFound, message: "no pool \(name)", operation: operation)
                }
                let active = try call.isActive(pool: pool, operation)
                if active && step.action != .start { try call.check(virStoragePoolDestroy(pool.pointer), operation) }
                if step.action != .stop && (!active || step.action == .restart) {
                    try call.check(virStoragePoolCreate(pool.pointer, 0), operation)
                }
            }
        case .migrate, .adopt, .suspend, .resume:
            throw unsupported(step)
        }
    }

    private static func define(_ model: PoolModel, hatchChanged: Bool, _ operation: String, _ call: LibvirtCall) throws {
        var pool = try call.pool(model.name)
        var needsBuild = pool == nil
        if let existing = pool {
            let xml = try call.poolXML(existing, operation)
            let current = try parsing("pool \(model.name)") { () throws(LibvirtXMLError) in try LibvirtXML.parsePool(xml) }
            var wanted = model
            wanted.autostart = current.model.autostart
            wanted.extraXML = current.model.extraXML
            if wanted.type == .logical && wanted.volumeGroup == nil { wanted.volumeGroup = model.name }
            // libvirt gives a zfs pool the target /dev/zvol/NAME: not a difference to redefine for.
            if !wanted.type.hasTargetPath { wanted.path = current.model.path }
            let hatchHolds = !hatchChanged && (try? XMLParser.parse(xml)).map {
                LibvirtXML.hatchHolds(Hatch.leaves(model.extraXML, in: .pool), in: $0, document: .pool)
            } ?? false
            if wanted != current.model || !hatchHolds {
                if try call.isActive(pool: existing, operation) {
                    try call.check(virStoragePoolDestroy(existing.pointer), operation)
                }
                guard let pointer = virStoragePoolDefineXML(call.conn, LibvirtXML.pool(model, uuid: current.uuid), 0) else {
                    throw call.error(operation)
                }
                pool = LibvirtObject(pointer, .pool)
                needsBuild = true
            }
        } else {
            guard let pointer = virStoragePoolDefineXML(call.conn, LibvirtXML.pool(model), 0) else { throw call.error(operation) }
            pool = LibvirtObject(pointer, .pool)
        }
        guard let pool else { return }
        // An fs pool is built too: with no flags libvirt only makes the mount point, and never
        // formats the device (that takes VIR_STORAGE_POOL_BUILD_OVERWRITE, which virtsync never passes).
        if try needsBuild && (model.type == .dir || model.type == .fs) && !call.isActive(pool: pool, operation) {
            try build(pool, "build pool \(model.name)", call)
        }
        try call.check(virStoragePoolSetAutostart(pool.pointer, model.autostart ? 1 : 0), "set autostart of pool \(model.name)")
        if try !call.isActive(pool: pool, operation) {
            do {
                try call.check(virStoragePoolCreate(pool.pointer, 0), "start pool \(model.name)")
            } catch var error as HypervisorError where error.code == .rejected {
                // Defined by virtsync but not started (an iSCSI target, a Ceph cluster, an NFS
                // server out of reach): not a refused create, so the inventory keeps the pool as
                // virtsync's and the next pass plans its start again.
                error.code = .other
                throw error
            }
        }
    }

    /// Builds a directory or fs pool: creates the directory (and its parents), never touching
    /// what is in it, and never formatting a device. `VIR_STORAGE_POOL_BUILD_NO_OVERWRITE` is not passed: it is about formatting a
    /// source device, and the QEMU driver refuses it for a `dir` pool ("no source device").
    private static func build(_ pool: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws {
        try call.check(virStoragePoolBuild(pool.pointer, 0), operation)
    }

    /// Volume steps.
    ///
    /// - `create`: `.blank` creates an empty volume; `.backing` a qcow2 overlay over the base
    ///   volume's path; `.clone` a full copy; `.generated` an empty volume into which `content`
    ///   is uploaded. A volume that already exists with a compatible format and at least the
    ///   capacity is a success (crash recovery; generated content is uploaded again).
    /// - `update`: resize to the model's capacity (shrinking only when the plan says so by
    ///   asking for less). A format change is refused: that needs `replace`.
    /// - `replace`: delete, then create. `delete`: delete; a missing volume is a success.
    func applyVolume(_ step: PlanStep) async throws {
        let operation = "\(step.action.rawValue) volume \(step.resource.name)"
        switch step.action {
        case .create, .replace:
            guard case .volume(let model) = step.payload else { throw missingPayload(step) }
            let replace = step.action == .replace
            // Read here: the body runs on libvirt's thread, outside this task's locals.
            let progress = TransferProgressContext.sink
            try await run(operation, timeout: options.storageTimeout) { call in
                guard let pool = try call.pool(model.pool) else {
                    throw HypervisorError(code: .notFound, message: "no pool \(model.pool)", operation: operation)
                }
                if replace, let existing = try call.volume(model.name, in: pool, poolName: model.pool) {
                    try call.check(virStorageVolDelete(existing.pointer, 0), operation)
                }
                try LibvirtSession.create(model, in: pool, operation, call, progress: progress)
            }
        case .update:
            guard case .volume(let model) = step.payload else { throw missingPayload(step) }
            try await run(operation, timeout: options.storageTimeout) { call in
                guard let pool = try call.pool(model.pool),
                      let volume = try call.volume(model.name, in: pool, poolName: model.pool) else {
                    throw HypervisorError(code: .notFound, message: "no volume \(model.key)", operation: operation)
                }
                let xml = try call.volumeXML(volume, operation)
                let current = try parsing("volume \(model.key)") { () throws(LibvirtXMLError) in
                    try LibvirtXML.parseVolume(xml, pool: model.pool)
                }
                guard LibvirtSession.compatible(current.model.format, model.format) else {
                    throw HypervisorError(code: .rejected,
                                          message: "format \(current.model.format.rawValue) cannot become \(model.format.rawValue) in place",
                                          operation: operation)
                }
                guard current.model.capacity != model.capacity else { return }
                // A volume a running guest has open is grown by QEMU, through the domain: growing
                // the file under it would leave the guest (and QEMU's view of a qcow2) behind.
                if model.capacity > current.model.capacity, let path = takeString(virStorageVolGetPath(volume.pointer)),
                   let user = try LibvirtSession.runningUser(pool: model.pool, volume: model.name, path: path, call) {
                    try call.check(virDomainBlockResize(user.domain.pointer, user.target, model.capacity.bytes,
                                                        UInt32(VIR_DOMAIN_BLOCK_RESIZE_BYTES.rawValue)), operation)
                    return
                }
                let shrink = model.capacity < current.model.capacity ? VIR_STORAGE_VOL_RESIZE_SHRINK.rawValue : 0
                try call.check(virStorageVolResize(volume.pointer, model.capacity.bytes, shrink), operation)
            }
        case .delete:
            let (poolName, volumeName) = Self.splitVolumeName(step)
            try await run(operation) { call in
                guard let pool = try call.pool(poolName),
                      let volume = try call.volume(volumeName, in: pool, poolName: poolName) else { return }
                try call.check(virStorageVolDelete(volume.pointer, 0), operation)
            }
        case .start, .stop, .restart, .migrate, .adopt, .suspend, .resume:
            throw unsupported(step)
        }
    }

    /// `pool` and `volume` of a volume step, from the payload or the `pool/volume` name.
    private static func splitVolumeName(_ step: PlanStep) -> (String, String) {
        if case .volume(let model) = step.payload { return (model.pool, model.name) }
        let name = step.resource.name
        guard let slash = name.firstIndex(of: "/") else { return ("", name) }
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }

    /// An ISO image is created as raw and may read as either until libvirt probes it again.
    private static func compatible(_ a: VolumeFormat, _ b: VolumeFormat) -> Bool {
        a == b || (a != .qcow2 && b != .qcow2)
    }

    private static func create(_ model: VolumeModel, in pool: LibvirtObject, _ operation: String, _ call: LibvirtCall,
                               progress: TransferProgressSink?) throws {
        let poolXML = try call.poolXML(pool, operation)
        let poolType = (try? LibvirtXML.parsePool(poolXML))?.model.type ?? .dir
        if let existing = try call.volume(model.name, in: pool, poolName: model.pool) {
            let xml = try call.volumeXML(existing, operation)
            let current = try parsing("volume \(model.key)") { () throws(LibvirtXMLError) in
                try LibvirtXML.parseVolume(xml, pool: model.pool)
            }
            guard compatible(current.model.format, model.format), current.model.capacity >= model.capacity else {
                throw HypervisorError(
                    code: .rejected,
                    message: "volume exists with format \(current.model.format.rawValue) and capacity \(current.model.capacity)",
                    operation: operation)
            }
            // Crash recovery: the content is written again; a failure leaves the volume
            // unconfirmed (the next pass makes it again), never present.
            try fillingContent(operation) { try fill(model, into: existing, operation, call, progress: progress) }
            return
        }
        let volume: LibvirtObject
        switch model.source {
        case .blank, .generated:
            volume = try createXML(LibvirtXML.volume(model, poolType: poolType), in: pool, operation, call)
        case .image:
            volume = try createXML(LibvirtXML.volume(try imageShell(model, operation), poolType: poolType), in: pool, operation, call)
        case .backing(let basePool, let baseName):
            guard let baseContainer = try call.pool(basePool), let base = try call.volume(baseName, in: baseContainer, poolName: basePool) else {
                throw HypervisorError(code: .notFound, message: "no base volume \(basePool)/\(baseName)", operation: operation)
            }
            guard let path = takeString(virStorageVolGetPath(base.pointer)) else { throw call.error(operation) }
            let baseXML = try call.volumeXML(base, operation)
            let format = (try? LibvirtXML.parseVolume(baseXML, pool: basePool))?.model.format ?? .raw
            let xml = LibvirtXML.volume(model, poolType: poolType, backing: LibvirtXML.BackingStore(path: path, format: format))
            volume = try createXML(xml, in: pool, operation, call)
        case .clone(let sourcePool, let sourceName):
            guard let sourceContainer = try call.pool(sourcePool),
                  let source = try call.volume(sourceName, in: sourceContainer, poolName: sourcePool) else {
                throw HypervisorError(code: .notFound, message: "no source volume \(sourcePool)/\(sourceName)", operation: operation)
            }
            let xml = LibvirtXML.volume(model, poolType: poolType)
            guard let pointer = virStorageVolCreateXMLFrom(pool.pointer, xml, source.pointer, 0) else { throw call.error(operation) }
            volume = LibvirtObject(pointer, .volume)
        }
        do {
            try fillingContent(operation) { try fill(model, into: volume, operation, call, progress: progress) }
        } catch {
            // Nothing half-made stays behind to be trusted: the volume goes again. If even that
            // fails, the inventory's pending entry marks it unconfirmed for the next pass.
            _ = virStorageVolDelete(volume.pointer, 0)
            throw error
        }
    }

    /// Creates a volume. A LUKS volume is tried up to three times when `qemu-img` refuses with
    /// "Unable to get accurate CPU usage": QEMU times its key-derivation iterations by the thread's
    /// CPU time, which a kernel counting in ticks can read as zero (seen once in CI on a LUKS raw
    /// volume; libvirt removes the failed file, so trying again is safe).
    private static func createXML(_ xml: String, in pool: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws -> LibvirtObject {
        var attempt = 1
        while true {
            if let pointer = virStorageVolCreateXML(pool.pointer, xml, 0) { return LibvirtObject(pointer, .volume) }
            let error = call.error(operation)
            guard attempt < 3, xml.contains("<encryption"), error.message.contains("Unable to get accurate CPU usage") else { throw error }
            attempt += 1
        }
    }

    /// Writes `content` into a volume from its start through a libvirt stream.
    static func upload(_ content: [UInt8], to volume: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws {
        guard !content.isEmpty else { return }
        guard let pointer = virStreamNew(call.conn, 0) else { throw call.error(operation) }
        let stream = LibvirtObject(pointer, .stream)
        try call.check(virStorageVolUpload(volume.pointer, stream.pointer, 0, UInt64(content.count), 0), operation)
        let chunk = 256 * 1024
        try content.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let data = base.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                let sent = virStreamSend(stream.pointer, data, min(chunk, buffer.count - offset))
                if sent < 0 {
                    let error = call.error(operation)
                    _ = virStreamAbort(stream.pointer)
                    throw error
                }
                offset += Int(sent)
            }
        }
        try call.check(virStreamFinish(stream.pointer), operation)
    }
}
