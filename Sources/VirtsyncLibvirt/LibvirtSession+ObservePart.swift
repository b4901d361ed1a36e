import CLibvirt
import VirtsyncCore
import VirtsyncEngine

/// The reads of an event-maintained view (`ObservedCache`): some domains by name, and the rest
/// of a host without its domains.
extension LibvirtSession: HypervisorDomainReader {
    /// Reads the named domains as `observe` does (inactive XML, the live XML of an active one,
    /// the stop reason of an inactive one), a few calls each; names with no domain are left out.
    public func observeDomains(_ names: Set<String>) async throws -> [String: ObservedDomain] {
        guard !names.isEmpty else { return [:] }
        let sorted = names.sorted()
        let raws = try await run("read domains", timeout: options.callTimeout * max(1, sorted.count / 64 + 1)) { call in
            try sorted.compactMap { name -> RawDomain? in
                guard let domain = try call.domain(name) else { return nil }
                do {
                    let operation = "read domain \(name)"
                    let uuid = try call.uuid(operation) { virDomainGetUUIDString(domain.pointer, $0) }
                    // State and stop reason from one call (`readDomain` would ask for the reason again).
                    guard let current = LibvirtSession.currentState(domain) else { return nil }
                    let persistent = virDomainIsPersistent(domain.pointer)
                    try call.check(persistent, operation)
                    let autostart = try call.autostart(operation) { virDomainGetAutostart(domain.pointer, $0) }
                    let listed = ListedDomain(object: domain, name: name, uuid: uuid, state: current.state, persistent: persistent == 1,
                                              autostart: autostart, reason: .known(current.reason))
                    return try LibvirtSession.readDomain(listed, call)
                } catch let error as HypervisorError where error.code == .notFound {
                    return nil
                }
            }
        }
        var read: [String: ObservedDomain] = [:]
        for raw in raws {
            let domain = try LibvirtSession.parse(raw)
            read[domain.model.name] = domain
        }
        return read
    }

    /// Networks, pools with their volumes, secret objects and the facts, as `observe` reads them.
    public func observeAllButDomains(host: String) async throws -> ObservedHost {
        try await observe(host: host, domains: false)
    }
}
