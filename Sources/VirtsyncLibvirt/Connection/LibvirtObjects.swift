import CLibvirt
import Foundation
import VirtsyncEngine

/// A libvirt object handle (domain, network, pool, volume, stream) released when dropped.
///
/// libvirt's objects are reference counted and thread safe; virtsync still uses them only inside
/// `LibvirtConnection.run` bodies, on the connection's queue. A handle may be carried from one
/// body to the next (observing lists in one call and reads in batches), hence `Sendable`.
final class LibvirtObject: @unchecked Sendable {
    enum Kind { case domain, network, pool, volume, stream, secret }

    let pointer: OpaquePointer
    private let kind: Kind

    init(_ pointer: OpaquePointer, _ kind: Kind) {
        self.pointer = pointer
        self.kind = kind
    }

    deinit {
        switch kind {
        case .domain: virDomainFree(pointer)
        case .network: virNetworkFree(pointer)
        case .pool: virStoragePoolFree(pointer)
        case .volume: virStorageVolFree(pointer)
        case .stream: virStreamFree(pointer)
        case .secret: virSecretFree(pointer)
        }
    }
}

/// Takes ownership of a string libvirt allocated for the caller: copies it and frees it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// Copies a C array of handles libvirt allocated into owned objects and frees the array.
func takeList(_ list: UnsafeMutablePointer<OpaquePointer?>?, count: Int32, kind: LibvirtObject.Kind) -> [LibvirtObject] {
    guard let list else { return [] }
    defer { free(list) }
    return (0..<Int(max(count, 0))).compactMap { list[$0].map { LibvirtObject($0, kind) } }
}

/// Whether libvirt's "not found" errors should read as `nil`.
private func notFoundAsNil<T>(_ result: T?, _ call: LibvirtCall, _ operation: String) throws -> T? {
    if let result { return result }
    let error = call.error(operation)
    if error.code == .notFound { return nil }
    throw error
}

extension LibvirtCall {
    /// The domain named `name`, or `nil` when there is none.
    func domain(_ name: String) throws -> LibvirtObject? {
        try notFoundAsNil(virDomainLookupByName(conn, name), self, "look up domain \(name)").map { LibvirtObject($0, .domain) }
    }

    /// The domain named `name`; libvirt's own error (`.notFound`, code 42) when there is none.
    func existingDomain(_ name: String, _ operation: String) throws -> LibvirtObject {
        guard let pointer = virDomainLookupByName(conn, name) else { throw error(operation) }
        return LibvirtObject(pointer, .domain)
    }

    /// The network named `name`, or `nil` when there is none.
    func network(_ name: String) throws -> LibvirtObject? {
        try notFoundAsNil(virNetworkLookupByName(conn, name), self, "look up network \(name)").map { LibvirtObject($0, .network) }
    }

    /// The storage pool named `name`, or `nil` when there is none.
    func pool(_ name: String) throws -> LibvirtObject? {
        try notFoundAsNil(virStoragePoolLookupByName(conn, name), self, "look up pool \(name)").map { LibvirtObject($0, .pool) }
    }

    /// The volume `name` of `pool`, or `nil` when there is none.
    func volume(_ name: String, in pool: LibvirtObject, poolName: String) throws -> LibvirtObject? {
        try notFoundAsNil(virStorageVolLookupByName(pool.pointer, name), self, "look up volume \(poolName)/\(name)")
            .map { LibvirtObject($0, .volume) }
    }

    /// A domain's XML: the persistent definition when `inactive`, else the running one.
    /// A domain's XML; `secure` includes what libvirt keeps from other readers (a display's
    /// password), for a definition written back whole. Never parsed into what plans show.
    func domainXML(_ domain: LibvirtObject, inactive: Bool, secure: Bool = false, _ operation: String) throws -> String {
        let flags = (inactive ? VIR_DOMAIN_XML_INACTIVE.rawValue : 0) | (secure ? VIR_DOMAIN_XML_SECURE.rawValue : 0)
        guard let xml = takeString(virDomainGetXMLDesc(domain.pointer, flags)) else { throw error(operation) }
        return xml
    }

    /// A network's persistent XML (falling back to the current one on drivers without the
    /// inactive flag, such as the test driver).
    func networkXML(_ network: LibvirtObject, _ operation: String) throws -> String {
        if let xml = takeString(virNetworkGetXMLDesc(network.pointer, VIR_NETWORK_XML_INACTIVE.rawValue)) { return xml }
        let failure = error(operation)
        guard LibvirtErrors.isUnsupported(failure) else { throw failure }
        guard let xml = takeString(virNetworkGetXMLDesc(network.pointer, 0)) else { throw error(operation) }
        return xml
    }

    /// A pool's persistent XML (with the same fallback as `networkXML`).
    func poolXML(_ pool: LibvirtObject, _ operation: String) throws -> String {
        if let xml = takeString(virStoragePoolGetXMLDesc(pool.pointer, VIR_STORAGE_XML_INACTIVE.rawValue)) { return xml }
        let failure = error(operation)
        guard LibvirtErrors.isUnsupported(failure) else { throw failure }
        guard let xml = takeString(virStoragePoolGetXMLDesc(pool.pointer, 0)) else { throw error(operation) }
        return xml
    }

    /// A volume's XML.
    func volumeXML(_ volume: LibvirtObject, _ operation: String) throws -> String {
        guard let xml = takeString(virStorageVolGetXMLDesc(volume.pointer, 0)) else { throw error(operation) }
        return xml
    }

    /// `true` when the domain holds resources (running or paused).
    func isActive(domain: LibvirtObject, _ operation: String) throws -> Bool {
        let result = virDomainIsActive(domain.pointer)
        try check(result, operation)
        return result == 1
    }

    /// `true` when the network is started.
    func isActive(network: LibvirtObject, _ operation: String) throws -> Bool {
        let result = virNetworkIsActive(network.pointer)
        try check(result, operation)
        return result == 1
    }

    /// `true` when the pool is started.
    func isActive(pool: LibvirtObject, _ operation: String) throws -> Bool {
        let result = virStoragePoolIsActive(pool.pointer)
        try check(result, operation)
        return result == 1
    }

    /// A pool's state, looked up afresh by name (never throws: for observation's races).
    enum PoolState { case active, inactive, gone, unknown }

    func poolState(named name: String) -> PoolState {
        guard let pointer = virStoragePoolLookupByName(conn, name) else {
            return virGetLastErrorCode() == Int32(VIR_ERR_NO_STORAGE_POOL.rawValue) ? .gone : .unknown
        }
        defer { virStoragePoolFree(pointer) }
        switch virStoragePoolIsActive(pointer) {
        case 1: return .active
        case 0: return .inactive
        default: return .unknown
        }
    }

    /// Reads an autostart flag with one of libvirt's `Get*Autostart` functions.
    func autostart(_ operation: String, _ get: (UnsafeMutablePointer<Int32>) -> Int32) throws -> Bool {
        var value: Int32 = 0
        try check(get(&value), operation)
        return value != 0
    }

    /// A UUID string with one of libvirt's `Get*UUIDString` functions.
    func uuid(_ operation: String, _ get: (UnsafeMutablePointer<CChar>) -> Int32) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        let text = buffer.withUnsafeMutableBufferPointer { pointer -> String? in
            guard let base = pointer.baseAddress, get(base) == 0 else { return nil }
            return String(cString: base)
        }
        guard let text else { throw error(operation) }
        return text
    }
}
