import VirtsyncXML
import CLibvirt
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// HA's view of this host's libvirt (`HADomainControl`): the HA VMs of one spec owner, their
/// power and the epoch in their markers; starts that write the epoch first; hard stops.
/// Domains without virtsync's marker, or with another owner's, are invisible to it and refused.
public struct LibvirtHADomains: HADomainControl {
    let session: LibvirtSession
    /// The spec source whose domains these are (`OwnershipMarker.owner`).
    let owner: String?

    public init(session: LibvirtSession, owner: String?) {
        self.session = session
        self.owner = owner
    }

    public func domains(_ names: Set<String>) async throws -> [String: HALocalDomain] {
        let owner = owner
        return try await session.run("read the HA domains") { call in
            var found: [String: HALocalDomain] = [:]
            for name in names.sorted() {
                guard let domain = try call.domain(name) else { continue }
                let operation = "read HA domain \(name)"
                let xml = try call.domainXML(domain, inactive: false, operation)
                let root = try parsing("domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(xml) }
                guard let marker = LibvirtXML.marker(in: root), marker.owner == owner else { continue }
                found[name] = HALocalDomain(running: try call.isActive(domain: domain, operation), epoch: marker.haEpoch)
            }
            return found
        }
    }

    public func start(vm: String, epoch: Int64) async throws {
        try await session.run("start HA domain \(vm) with epoch \(epoch)") { call in
            let operation = "start HA domain \(vm) with epoch \(epoch)"
            let (domain, root) = try ownDomain(vm, action: "start", operation, call)
            if try call.isActive(domain: domain, operation) {
                throw HypervisorError(code: .rejected, message: "domain \(vm) already runs", operation: operation)
            }
            // The epoch goes into the persistent definition before the start, so the copy that
            // runs always carries the epoch it was started with.
            try LibvirtSession.setMarkerAttribute(LibvirtXML.haEpochAttribute, to: String(epoch), domain, root: root, live: false,
                                                  operation, call)
            try call.check(virDomainCreate(domain.pointer), operation)
        }
    }

    public func mark(vm: String, epoch: Int64) async throws {
        try await session.run("mark HA domain \(vm) with epoch \(epoch)") { call in
            let operation = "mark HA domain \(vm) with epoch \(epoch)"
            let (domain, root) = try ownDomain(vm, action: "mark", operation, call)
            guard try call.isActive(domain: domain, operation) else {
                throw HypervisorError(code: .rejected, message: "domain \(vm) does not run", operation: operation)
            }
            try LibvirtSession.setMarkerAttribute(LibvirtXML.haEpochAttribute, to: String(epoch), domain, root: root, live: true,
                                                  operation, call)
        }
    }

    /// The domain `vm` and its persistent definition, when it carries this spec owner's marker.
    private func ownDomain(_ vm: String, action: String, _ operation: String, _ call: LibvirtCall) throws -> (LibvirtObject, XElement) {
        let domain = try call.existingDomain(vm, operation)
        let root = try LibvirtSession.managedDefinition(domain, vm, action: action, call)
        guard let marker = LibvirtXML.marker(in: root), marker.owner == owner else {
            throw HypervisorError(code: .rejected, message: "domain \(vm) belongs to another spec owner", operation: operation)
        }
        return (domain, root)
    }

    public func hardStop(vm: String) async throws {
        try await session.run("hard-stop HA domain \(vm)") { call in
            let operation = "hard-stop HA domain \(vm)"
            guard let domain = try call.domain(vm) else { return }
            try LibvirtSession.requireMarker(domain, vm, action: "hard-stop", call)
            try LibvirtSession.destroyIfActive(domain, operation, call)
        }
    }
}
