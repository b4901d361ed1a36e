import VirtsyncXML
import CLibvirt
import Foundation
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Migrates a domain of this host with libvirt's peer-to-peer migration: this host's libvirtd
    /// connects to `migration.destinationURI` itself, so the client needs no route to the data
    /// path. Flags: `PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE` (defined on the destination
    /// only), plus `LIVE` for a running domain (`OFFLINE` moves a stopped one: its definition is
    /// redefined there), `NON_SHARED_DISK` when disks are copied, and `UNSAFE` when the spec allows
    /// it. Before it: the marker is rewritten (to record or clear a maintenance evacuation), the
    /// maximum downtime is set, and the destination rescans the pools of the domain's volumes (a
    /// shared pool shows files another host created only after a rescan). After
    /// `settings.timeout` the job is aborted; the domain then keeps running on this host.
    public func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport {
        let name = step.resource.name
        let operation = "migrate domain \(name) to \(migration.to)"
        let (pools, uuid) = try await run(operation) { call -> ([String], String) in
            let domain = try call.existingDomain(name, operation)
            let uuid = try call.uuid(operation) { virDomainGetUUIDString(domain.pointer, $0) }
            let root = try LibvirtSession.managedDefinition(domain, name, action: "migrate", call)
            try LibvirtSession.rewriteMarker(domain, root: root, evacuatedFrom: migration.marker.evacuatedFrom, operation, call)
            if migration.live {
                // Best effort: an older QEMU without the parameter still migrates, with its default.
                let ms = UInt64(max(1, (migration.settings.maxDowntime * 1000).rounded()))
                if virDomainMigrateSetMaxDowntime(domain.pointer, ms, 0) < 0 { virResetLastError() }
            }
            return (root.path("devices")?.children(named: "disk").compactMap { $0.child("source")?[attribute: "pool"] } ?? [], uuid)
        }
        if let target = destination as? LibvirtSession {
            for pool in Set(pools).sorted() { try await target.refreshPool(pool) }
            try await target.clearStoppedCopy(name, keeping: uuid)
        }
        let started = ContinuousClock.now
        let timeout = Duration.milliseconds(Int64(migration.settings.timeout * 1000))
        let flags = LibvirtSession.migrationFlags(migration)
        let bandwidth = migration.settings.bandwidthMiBps
        let uri = migration.destinationURI
        let abort = DispatchWorkItem { [connection] in
            Task {
                try? await connection.runConcurrently("abort migration of \(name)", timeout: .seconds(10)) { call in
                    guard let domain = try call.domain(name) else { return }
                    if virDomainAbortJob(domain.pointer) < 0 { virResetLastError() }
                }
            }
        }
        // A queue of its own: the global queue can be starved by blocked libvirt calls.
        DispatchQueue(label: "virtsync.libvirt.migration-deadline").asyncAfter(deadline: .now() + migration.settings.timeout, execute: abort)
        defer { abort.cancel() }
        // The migration runs on the readers' queue: the connection's own queue stays free for
        // other steps and for the abort, and several migrations of this host run side by side.
        try await connection.runConcurrently(operation, timeout: timeout + .seconds(30)) { call in
            let domain = try call.existingDomain(name, operation)
            var params: UnsafeMutablePointer<virTypedParameter>?
            var count: Int32 = 0
            var capacity: Int32 = 0
            defer { virTypedParamsFree(params, count) }
            if let bandwidth {
                try call.check(virTypedParamsAddULLong(&params, &count, &capacity, VIR_MIGRATE_PARAM_BANDWIDTH, UInt64(bandwidth)), operation)
            }
            if virDomainMigrateToURI3(domain.pointer, uri, params, UInt32(count), flags) < 0 {
                var error = call.error(operation)
                if ContinuousClock.now - started >= timeout {
                    error.message = "aborted after its timeout of \(Int(migration.settings.timeout.rounded())) s: \(error.message)"
                }
                throw error
            }
        }
        let elapsed = ContinuousClock.now - started
        var downtime: Double?
        if migration.live, let target = destination as? LibvirtSession {
            downtime = try? await target.completedMigrationDowntime(name)
        }
        return MigrationReport(downtimeMilliseconds: downtime,
                               seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func migrationFlags(_ migration: Migration) -> UInt32 {
        var flags = VIR_MIGRATE_PEER2PEER.rawValue | VIR_MIGRATE_PERSIST_DEST.rawValue | VIR_MIGRATE_UNDEFINE_SOURCE.rawValue
        flags |= migration.live ? VIR_MIGRATE_LIVE.rawValue | VIR_MIGRATE_ABORT_ON_ERROR.rawValue : VIR_MIGRATE_OFFLINE.rawValue
        if migration.live, migration.storage == .copy { flags |= VIR_MIGRATE_NON_SHARED_DISK.rawValue }
        if migration.settings.allowUnsafe { flags |= VIR_MIGRATE_UNSAFE.rawValue }
        return UInt32(flags)
    }

    /// Writes the marker again with `evacuated-from` set or removed, in the persistent
    /// definition (which the migration carries to the destination) and the live one.
    static func rewriteMarker(_ domain: LibvirtObject, root: XElement, evacuatedFrom: String?, _ operation: String, _ call: LibvirtCall) throws {
        try setMarkerAttribute(LibvirtXML.evacuatedFromAttribute, to: evacuatedFrom, domain, root: root,
                               live: try call.isActive(domain: domain, operation), operation, call)
    }

    /// Sets (or removes, for nil) one attribute of the ownership marker in the persistent
    /// definition, and in the live one too when `live`; nothing is written when it already holds
    /// that value or the domain has no marker.
    static func setMarkerAttribute(_ name: String, to value: String?, _ domain: LibvirtObject, root: XElement, live: Bool,
                                   _ operation: String, _ call: LibvirtCall) throws {
        guard var marker = LibvirtXML.markerElement(in: root), marker[attribute: name] != value else { return }
        marker[attribute: name] = value
        marker.name = OwnershipMarker.element
        marker.attributes.removeAll { $0.name.hasPrefix("xmlns") }
        let flags = VIR_DOMAIN_AFFECT_CONFIG.rawValue | (live ? VIR_DOMAIN_AFFECT_LIVE.rawValue : 0)
        try call.check(virDomainSetMetadata(domain.pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), marker.serialized(),
                                            OwnershipMarker.prefix, OwnershipMarker.namespace, flags), operation)
    }

    /// Before a migration here: undefines a stopped copy of `name` this host still has under
    /// another UUID (the leftover of a host that died and came back after HA restarted the VM
    /// elsewhere), which would refuse the arriving one. Only a copy with virtsync's marker, and
    /// never a running one; its disks and NVRAM are kept.
    func clearStoppedCopy(_ name: String, keeping uuid: String) async throws {
        let operation = "replace the stopped copy of domain \(name) on \(self.uri)"
        try await run(operation) { call in
            guard let domain = try call.domain(name) else { return }
            let existing = try call.uuid(operation) { virDomainGetUUIDString(domain.pointer, $0) }
            guard existing.lowercased() != uuid.lowercased() else { return }
            if try call.isActive(domain: domain, operation) {
                throw HypervisorError(code: .rejected, message: "another copy of \(name) runs on the destination", operation: operation)
            }
            try LibvirtSession.requireMarker(domain, name, action: "replace the stopped copy of", call)
            let basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
            for flags in [basic | VIR_DOMAIN_UNDEFINE_KEEP_NVRAM.rawValue | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue, basic, 0] {
                if virDomainUndefineFlags(domain.pointer, flags) == 0 { return }
                let error = call.error(operation)
                guard flags != 0, LibvirtErrors.isUnsupported(error) else { throw error }
            }
        }
    }

    /// Rescans a pool so volumes created by another host sharing its storage are listed.
    func refreshPool(_ name: String) async throws {
        let operation = "refresh pool \(name)"
        try await run(operation) { call in
            guard let pool = virStoragePoolLookupByName(call.conn, name).map({ LibvirtObject($0, .pool) }) else {
                virResetLastError()
                return
            }
            guard virStoragePoolIsActive(pool.pointer) == 1 else { return }
            try call.check(virStoragePoolRefresh(pool.pointer, 0), operation)
        }
    }

    /// The downtime of the migration that brought `name` here, from the completed job's
    /// statistics, in milliseconds.
    func completedMigrationDowntime(_ name: String) async throws -> Double? {
        let operation = "read migration statistics of \(name)"
        return try await run(operation) { call -> Double? in
            let domain = try call.existingDomain(name, operation)
            var type: Int32 = 0
            var params: UnsafeMutablePointer<virTypedParameter>?
            var count: Int32 = 0
            guard virDomainGetJobStats(domain.pointer, &type, &params, &count, UInt32(VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue)) == 0 else {
                virResetLastError()
                return nil
            }
            defer { virTypedParamsFree(params, count) }
            var value: UInt64 = 0
            guard virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DOWNTIME, &value) == 1 else { return nil }
            return Double(value)
        }
    }
}
