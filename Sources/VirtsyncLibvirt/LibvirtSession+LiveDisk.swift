import CLibvirt
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML

extension LibvirtSession {
    /// A running domain with a disk on the volume (named by pool and volume, as virtsync writes
    /// disks, or by its path), and that disk's target (`vda`), if there is one.
    static func runningUser(pool: String, volume: String, path: String, _ call: LibvirtCall) throws -> (domain: LibvirtObject, target: String)? {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllDomains(call.conn, &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
        try call.check(count, "list running domains")
        for domain in takeList(list, count: count, kind: .domain) {
            guard let xml = try? call.domainXML(domain, inactive: false, "read a running domain"),
                  let root = try? XMLParser.parse(xml) else { continue }
            for disk in root.child("devices")?.children(named: "disk") ?? [] {
                let source = disk.child("source")
                let byName = source?[attribute: "pool"] == pool && source?[attribute: "volume"] == volume
                guard byName || source?[attribute: "file"] == path || source?[attribute: "dev"] == path,
                      let target = disk.child("target")?[attribute: "dev"] else { continue }
                return (domain, target)
            }
        }
        return nil
    }
}

extension LibvirtSession {
    /// Sets all six I/O limits of a disk (zero: no limit) with `virDomainSetBlockIoTune`.
    static func setBlockIoTune(_ domain: LibvirtObject, target: String, _ limits: IOTune, flags: UInt32, _ operation: String,
                               _ call: LibvirtCall) throws {
        var params: UnsafeMutablePointer<virTypedParameter>?
        var count: Int32 = 0
        var capacity: Int32 = 0
        defer { virTypedParamsFree(params, count) }
        for (name, value) in limits.fields {
            guard virTypedParamsAddULLong(&params, &count, &capacity, name, value) == 0 else { throw call.error(operation) }
        }
        try call.check(virDomainSetBlockIoTune(domain.pointer, target, params, count, flags), operation)
    }
}
