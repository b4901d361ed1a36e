import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

/// What one libvirt round gives about a domain, before parsing.
struct RawDomain: Sendable {
    var name: String
    var uuid: String
    var state: RunState
    var persistent: Bool
    var autostart: Bool
    var xml: String
    var liveXML: String?
    /// Why a domain that is not active stopped (`virDomainGetState`); `nil` for an active one.
    var stopReason: StopReason?
}

/// What one libvirt round gives about a network or a pool, before parsing.
struct RawResource: Sendable {
    var name: String
    var active: Bool
    var autostart: Bool
    var xml: String
    /// Volume XML of an active pool.
    var volumes: [String] = []
}

extension LibvirtSession {
    /// Lists every domain, network and pool, and the volumes of active pools.
    ///
    /// One inactive XML per domain, plus the live XML of active ones and the state reason
    /// (`virDomainGetState`) of inactive ones. Domains are read in
    /// batches (`options.observeBatchSize` per call, each with the ordinary deadline); the
    /// parsing runs off the connection's queue. Pools are not refreshed first: a refresh rescans
    /// every pool's storage and is slow, and libvirt already knows every volume it created
    /// itself; files copied into a pool directory by hand appear after the next refresh (pool
    /// start, or `virsh pool-refresh`). Pools of types the model lacks are skipped, with their
    /// volumes. Objects that vanish while being read are left out.
    /// - Throws: `HypervisorError` (`.unreachable`, `.timeout`, or `.other` for XML that cannot
    ///   be parsed).
    public func observe(host: String) async throws -> ObservedHost {
        try await observe(host: host, domains: true)
    }

    /// `observe`, with or without the domains.
    func observe(host: String, domains readDomains: Bool) async throws -> ObservedHost {
        var observed = ObservedHost(name: host)
        if readDomains { observed.domains = try await observeEveryDomain() }
        try await observeAllButDomains(into: &observed)
        return observed
    }

    /// Every domain, read in parallel batches.
    private func observeEveryDomain() async throws -> [String: ObservedDomain] {
        var observed: [String: ObservedDomain] = [:]
        // Run state, persistence and autostart come from a few filtered listings rather than
        // three calls per domain: per domain, only its XML crosses the wire.
        let listing = try await run("list domains") { call in try LibvirtSession.listDomains(call) }
        let workers = max(1, min(options.observeReaders, listing.count / max(1, options.observeBatchSize) + 1))
        let chunk = (listing.count + workers - 1) / max(1, workers)
        let reads = stride(from: 0, to: listing.count, by: max(1, chunk)).map { start in
            let slice = Array(listing[start..<min(start + chunk, listing.count)])
            return Task {
                try await self.connection.runConcurrently("read domains", timeout: self.options.callTimeout * max(1, slice.count / 64 + 1)) { call in
                    // Parsed right here, on the reader's thread, so parsing runs side by side too.
                    try slice.compactMap { listed in try LibvirtSession.readDomain(listed, call).map(LibvirtSession.parse) }
                }
            }
        }
        for read in reads {
            for domain in try await read.value {
                observed[domain.model.name] = domain
            }
        }
        return observed
    }

    /// Networks, pools with their volumes, secret objects and the facts.
    private func observeAllButDomains(into observed: inout ObservedHost) async throws {
        let networks = try await run("read networks") { call in try LibvirtSession.readNetworks(call) }
        for raw in networks {
            var parsed = try parsing("network \(raw.name)") { () throws(LibvirtXMLError) in try LibvirtXML.parseNetwork(raw.xml) }
            parsed.model.autostart = raw.autostart
            observed.networks[parsed.model.name] = ObservedNetwork(model: parsed.model, uuid: parsed.uuid, active: raw.active, hatch: parsed.hatch)
        }

        let pools = try await run("read pools") { call in try LibvirtSession.readPools(call) }
        var volumes: [(ParsedVolume, String)] = []
        for raw in pools {
            // Pools of a type the model lacks cannot be represented; skip them and their volumes.
            guard var parsed = try? LibvirtXML.parsePool(raw.xml) else { continue }
            parsed.model.autostart = raw.autostart
            observed.pools[parsed.model.name] = ObservedPool(model: parsed.model, uuid: parsed.uuid, active: raw.active, hatch: parsed.hatch)
            for xml in raw.volumes {
                let volume = try parsing("a volume of pool \(raw.name)") { () throws(LibvirtXMLError) in
                    try LibvirtXML.parseVolume(xml, pool: parsed.model.name)
                }
                volumes.append((volume, parsed.model.name))
            }
        }
        let keysByPath = Dictionary(volumes.map { ($0.0.path, $0.0.model.key) }, uniquingKeysWith: { first, _ in first })
        for (parsed, _) in volumes {
            var model = parsed.model
            if let backing = parsed.backingPath, let key = keysByPath[backing], let slash = key.firstIndex(of: "/") {
                model.source = .backing(pool: String(key[..<slash]), volume: String(key[key.index(after: slash)...]))
            }
            observed.volumes[model.key] = ObservedVolume(model: model, path: parsed.path)
        }
        for secret in try await run("read secrets", { call in try LibvirtSession.readSecrets(call) }) {
            observed.secretObjects[secret.uuid] = secret
        }
        observed.facts = facts
    }

    /// Parses a raw domain into its observed value.
    static func parse(_ raw: RawDomain) throws -> ObservedDomain {
        let parsed = try parsing("domain \(raw.name)") { () throws(LibvirtXMLError) in try LibvirtXML.parseDomain(raw.xml) }
        var model = parsed.model
        model.autostart = raw.autostart
        let live = try raw.liveXML.map { xml in
            try parsing("live domain \(raw.name)") { () throws(LibvirtXMLError) in try LibvirtXML.parseLiveValues(xml) }
        }
        // The stop marker means something only while the domain is stopped; on a running one it
        // would be left over from a start that could not remove it.
        let inactive = !raw.state.isActive
        return ObservedDomain(model: model, uuid: raw.uuid.isEmpty ? parsed.uuid : raw.uuid, state: raw.state,
                              live: live, marker: parsed.marker, persistent: raw.persistent,
                              stopReason: inactive ? raw.stopReason : nil, stoppedByVirtsync: inactive && parsed.stoppedByVirtsync,
                              hatch: parsed.hatch)
    }

    /// A domain with what the listings said about it.
    struct ListedDomain: @unchecked Sendable {
        let object: LibvirtObject
        let name: String
        let uuid: String
        let state: RunState
        let persistent: Bool
        let autostart: Bool
        /// Why an inactive domain stopped, when the listing said; asked per domain otherwise.
        var reason: ListedReason = .ask
    }

    /// What a listing knows about a domain's stop reason.
    enum ListedReason {
        /// Known (`nil` for an active domain).
        case known(StopReason?)
        /// Not known: `readDomain` asks libvirt.
        case ask
    }

    /// Every domain, with its run state, stop reason, persistence and autostart, in three calls
    /// however many domains there are: the state statistics of every domain
    /// (`virConnectGetAllDomainStats`), and the transient and autostart listings. A driver
    /// without domain statistics is listed with state filters instead, and each stopped
    /// domain's reason is then asked on its own.
    static func listDomains(_ call: LibvirtCall) throws -> [ListedDomain] {
        guard let states = try domainStates(call) else { return try listDomainsByFilters(call) }
        let transient = try uuids(VIR_CONNECT_LIST_DOMAINS_TRANSIENT, call)
        let autostart = try uuids(VIR_CONNECT_LIST_DOMAINS_AUTOSTART, call)
        return states.compactMap { entry in
            guard let namePointer = virDomainGetName(entry.domain.pointer),
                  let uuid = try? call.uuid("read a domain's UUID", { virDomainGetUUIDString(entry.domain.pointer, $0) }) else { return nil }
            let state = runState(entry.state)
            return ListedDomain(object: entry.domain, name: String(cString: namePointer), uuid: uuid, state: state,
                                persistent: !transient.contains(uuid), autostart: autostart.contains(uuid),
                                reason: .known(stopReason(state: entry.state, reason: entry.reason)))
        }
    }

    /// The UUIDs of the domains a filtered listing gives.
    private static func uuids(_ flags: virConnectListAllDomainsFlags, _ call: LibvirtCall) throws -> Set<String> {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllDomains(call.conn, &list, flags.rawValue)
        try call.check(count, "list domains")
        return Set(takeList(list, count: count, kind: .domain).compactMap { domain in
            try? call.uuid("read a domain's UUID") { virDomainGetUUIDString(domain.pointer, $0) }
        })
    }

    /// Every domain's `virDomainState` and reason from one `virConnectGetAllDomainStats` call
    /// (state group only, which needs no guest monitor; `NOWAIT` so a domain in a long job
    /// does not hold the listing); `nil` when the driver has no domain statistics.
    static func domainStates(_ call: LibvirtCall) throws -> [(domain: LibvirtObject, state: Int32, reason: Int32)]? {
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        var count = virConnectGetAllDomainStats(call.conn, VIR_DOMAIN_STATS_STATE.rawValue, &records,
                                                VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue)
        if count < 0, LibvirtErrors.isUnsupported(call.error("read domain states")) {
            // A driver that does not know NOWAIT (the test driver) never waits anyway.
            count = virConnectGetAllDomainStats(call.conn, VIR_DOMAIN_STATS_STATE.rawValue, &records, 0)
        }
        if count < 0 {
            let error = call.error("read domain states")
            if LibvirtErrors.isUnsupported(error) { return nil }
            throw error
        }
        guard let records else { return [] }
        defer { virDomainStatsRecordListFree(records) }
        var result: [(domain: LibvirtObject, state: Int32, reason: Int32)] = []
        result.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            guard let record = records[i]?.pointee, let dom = record.dom, virDomainRef(dom) == 0 else { continue }
            var state: Int32 = 0
            var reason: Int32 = 0
            // A record without the state fields (a domain that vanished meanwhile) reads as
            // libvirt's "no state".
            if virTypedParamsGetInt(record.params, record.nparams, "state.state", &state) != 1 { state = 0 }
            if virTypedParamsGetInt(record.params, record.nparams, "state.reason", &reason) != 1 { reason = 0 }
            result.append((LibvirtObject(dom, .domain), state, reason))
        }
        return result
    }

    /// The listing for a driver without domain statistics: state filters, and the rare other
    /// states one by one.
    static func listDomainsByFilters(_ call: LibvirtCall) throws -> [ListedDomain] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllDomains(call.conn, &list, 0)
        try call.check(count, "list domains")
        let all = takeList(list, count: count, kind: .domain)
        let running = try uuids(VIR_CONNECT_LIST_DOMAINS_RUNNING, call)
        let paused = try uuids(VIR_CONNECT_LIST_DOMAINS_PAUSED, call)
        let shutoff = try uuids(VIR_CONNECT_LIST_DOMAINS_SHUTOFF, call)
        let transient = try uuids(VIR_CONNECT_LIST_DOMAINS_TRANSIENT, call)
        let autostart = try uuids(VIR_CONNECT_LIST_DOMAINS_AUTOSTART, call)
        return all.compactMap { domain in
            guard let namePointer = virDomainGetName(domain.pointer),
                  let uuid = try? call.uuid("read a domain's UUID", { virDomainGetUUIDString(domain.pointer, $0) }) else { return nil }
            // The state filters know only running, paused and shut off; the rest (blocked,
            // shutting down, suspended by the guest, crashed) is asked one by one, as rare.
            let state: RunState = running.contains(uuid) ? .running : paused.contains(uuid) ? .paused
                : shutoff.contains(uuid) ? .shutoff : LibvirtSession.currentState(domain)?.state ?? .crashed
            return ListedDomain(object: domain, name: String(cString: namePointer), uuid: uuid, state: state,
                                persistent: !transient.contains(uuid), autostart: autostart.contains(uuid))
        }
    }

    /// Reads one listed domain's XML; `nil` when it disappeared meanwhile.
    static func readDomain(_ listed: ListedDomain, _ call: LibvirtCall) throws -> RawDomain? {
        do {
            let operation = "read domain \(listed.name)"
            let xml = try call.domainXML(listed.object, inactive: true, operation)
            let liveXML = listed.state.isActive ? try call.domainXML(listed.object, inactive: false, operation) : nil
            let stopReason: StopReason?
            switch listed.reason {
            case .known(let reason): stopReason = reason
            case .ask: stopReason = listed.state.isActive ? nil : try LibvirtSession.stopReason(listed.object, operation, call)
            }
            return RawDomain(name: listed.name, uuid: listed.uuid, state: listed.state, persistent: listed.persistent,
                             autostart: listed.autostart, xml: xml, liveXML: liveXML, stopReason: stopReason)
        } catch let error as HypervisorError where error.code == .notFound {
            return nil
        }
    }

    /// Why a domain that is not active stopped, from `virDomainGetState`; `nil` when it became
    /// active since it was listed.
    static func stopReason(_ domain: LibvirtObject, _ operation: String, _ call: LibvirtCall) throws -> StopReason? {
        var state: Int32 = 0
        var reason: Int32 = 0
        try call.check(virDomainGetState(domain.pointer, &state, &reason, 0), operation)
        return stopReason(state: state, reason: reason)
    }

    /// A `virDomainState` and its reason in model terms: the shut-off reasons by name, libvirt's
    /// crashed state as `crashed`, `nil` for an active state.
    static func stopReason(state: Int32, reason: Int32) -> StopReason? {
        switch UInt32(bitPattern: state) {
        case VIR_DOMAIN_CRASHED.rawValue:
            return .crashed
        case VIR_DOMAIN_NOSTATE.rawValue:
            return .unknown
        case VIR_DOMAIN_SHUTOFF.rawValue:
            switch UInt32(bitPattern: reason) {
            case VIR_DOMAIN_SHUTOFF_UNKNOWN.rawValue: return .unknown
            case VIR_DOMAIN_SHUTOFF_SHUTDOWN.rawValue: return .shutdown
            case VIR_DOMAIN_SHUTOFF_DESTROYED.rawValue: return .destroyed
            case VIR_DOMAIN_SHUTOFF_CRASHED.rawValue: return .crashed
            case VIR_DOMAIN_SHUTOFF_MIGRATED.rawValue: return .migrated
            case VIR_DOMAIN_SHUTOFF_SAVED.rawValue: return .saved
            case VIR_DOMAIN_SHUTOFF_FAILED.rawValue: return .failed
            case VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT.rawValue: return .fromSnapshot
            case VIR_DOMAIN_SHUTOFF_DAEMON.rawValue: return .daemon
            default: return .other
            }
        default:
            return nil
        }
    }

    /// A domain's run state and stop reason from one `virDomainGetState`; nil when libvirt
    /// cannot say (it is gone).
    static func currentState(_ domain: LibvirtObject) -> (state: RunState, reason: StopReason?)? {
        var state: Int32 = 0
        var reason: Int32 = 0
        guard virDomainGetState(domain.pointer, &state, &reason, 0) == 0 else {
            virResetLastError()
            return nil
        }
        return (runState(state), stopReason(state: state, reason: reason))
    }

    /// libvirt's `virDomainState` in model terms. Blocked and shutting-down guests still run;
    /// a guest suspended to RAM by its own power management counts as paused.
    static func runState(_ state: Int32) -> RunState {
        switch UInt32(bitPattern: state) {
        case VIR_DOMAIN_RUNNING.rawValue, VIR_DOMAIN_BLOCKED.rawValue, VIR_DOMAIN_SHUTDOWN.rawValue: return .running
        case VIR_DOMAIN_PAUSED.rawValue, VIR_DOMAIN_PMSUSPENDED.rawValue: return .paused
        case VIR_DOMAIN_SHUTOFF.rawValue: return .shutoff
        case VIR_DOMAIN_CRASHED.rawValue: return .crashed
        default: return .other
        }
    }

    static func readNetworks(_ call: LibvirtCall) throws -> [RawResource] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllNetworks(call.conn, &list, 0)
        try call.check(count, "list networks")
        return try takeList(list, count: count, kind: .network).compactMap { network in
            do {
                guard let namePointer = virNetworkGetName(network.pointer) else { throw call.error("read a network's name") }
                let name = String(cString: namePointer)
                let operation = "read network \(name)"
                return RawResource(name: name, active: try call.isActive(network: network, operation),
                                   autostart: try call.autostart(operation) { virNetworkGetAutostart(network.pointer, $0) },
                                   xml: try call.networkXML(network, operation))
            } catch let error as HypervisorError where error.code == .notFound {
                return nil
            }
        }
    }

    static func readPools(_ call: LibvirtCall) throws -> [RawResource] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllStoragePools(call.conn, &list, 0)
        try call.check(count, "list pools")
        return try takeList(list, count: count, kind: .pool).compactMap { pool in
            do {
                guard let namePointer = virStoragePoolGetName(pool.pointer) else { throw call.error("read a pool's name") }
                let name = String(cString: namePointer)
                let operation = "read pool \(name)"
                let active = try call.isActive(pool: pool, operation)
                var raw = RawResource(name: name, active: active,
                                      autostart: try call.autostart(operation) { virStoragePoolGetAutostart(pool.pointer, $0) },
                                      xml: try call.poolXML(pool, operation))
                if active {
                    var volumes: UnsafeMutablePointer<OpaquePointer?>?
                    var volumeCount = virStoragePoolListAllVolumes(pool.pointer, &volumes, 0)
                    if volumeCount < 0 {
                        // Stopped or removed by someone else (another tool, another owner's
                        // apply) between the calls: seen as it is now, not as a host failure.
                        // libvirt 9.0 can fail the listing of a pool being destroyed without
                        // setting an error, so the pool is looked up again by name.
                        switch call.poolState(named: name) {
                        case .gone: return nil
                        case .inactive:
                            raw.active = false
                            return raw
                        case .active, .unknown:
                            volumeCount = virStoragePoolListAllVolumes(pool.pointer, &volumes, 0)
                        }
                    }
                    try call.check(volumeCount, "list volumes of pool \(name)")
                    raw.volumes = try takeList(volumes, count: volumeCount, kind: .volume).compactMap { volume in
                        do {
                            return try call.volumeXML(volume, "read a volume of pool \(name)")
                        } catch let error as HypervisorError where error.code == .notFound {
                            return nil
                        }
                    }
                }
                return raw
            } catch let error as HypervisorError where error.code == .notFound {
                return nil
            }
        }
    }
}

/// Runs a parser and turns its error into a `HypervisorError`.
func parsing<T>(_ what: String, _ parse: () throws(LibvirtXMLError) -> T) throws(HypervisorError) -> T {
    do {
        return try parse()
    } catch {
        throw HypervisorError(code: .other, message: error.description, operation: "parse \(what)")
    }
}
