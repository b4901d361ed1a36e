import VirtsyncXML
import VirtsyncCore

/// A network definition parsed into the model.
public struct ParsedNetwork: Hashable, Sendable {
    /// The network in model terms; `autostart` is not in the XML and is left `false`.
    public var model: NetworkModel
    /// libvirt's UUID for the network.
    public var uuid: String
    /// Every unowned element of the definition (the paths virtsync wrote are in the inventory).
    public var hatch: ObservedHatch?
}

/// A storage pool definition parsed into the model.
public struct ParsedPool: Hashable, Sendable {
    /// The pool in model terms; `autostart` is not in the XML and is left `false`.
    public var model: PoolModel
    /// libvirt's UUID for the pool.
    public var uuid: String
    /// Every unowned element of the definition (the paths virtsync wrote are in the inventory).
    public var hatch: ObservedHatch?
}

/// A volume's XML parsed into the model.
public struct ParsedVolume: Hashable, Sendable {
    /// The volume in model terms, with `source` `.blank`: the backing store is reported as a
    /// path, which only the whole host's volume list can turn back into `pool/volume`.
    public var model: VolumeModel
    /// The volume's path on the host.
    public var path: String
    /// Path of the backing store, when the volume is an overlay.
    public var backingPath: String?
}

extension LibvirtXML {
    /// Parses a network's persistent XML. Forward modes the model lacks are mapped to the
    /// nearest mode: `passthrough`, `private`, `vepa` and `hostdev` to `bridge`. The first IPv4
    /// `<ip>` is read; a `netmask` is turned into a prefix. The bridge name comes back filled
    /// (`virbrN`) when libvirt chose it.
    public static func parseNetwork(_ xml: String) throws(LibvirtXMLError) -> ParsedNetwork {
        let root = try XMLParser.parse(xml)
        guard root.name == "network" else { throw LibvirtXMLError(message: "expected <network>, found <\(root.name)>") }
        guard let name = root.child("name")?.text, !name.isEmpty else {
            throw LibvirtXMLError(message: "network without a name")
        }
        let forward = root.child("forward")
        let mode = parseMode(forward)
        var ipv4: IPv4Config?
        for ip in root.children(named: "ip") where (ip[attribute: "family"] ?? "ipv4") == "ipv4" {
            guard let address = ip[attribute: "address"] else { continue }
            let prefix = ip[attribute: "prefix"].flatMap { Int($0) } ?? ip[attribute: "netmask"].flatMap(prefixLength) ?? 24
            let dhcp = ip.child("dhcp")
            let range = dhcp?.child("range")
            let hosts: [DHCPHost] = (dhcp?.children(named: "host") ?? []).compactMap { host in
                guard let mac = host[attribute: "mac"], let address = host[attribute: "ip"] else { return nil }
                return DHCPHost(mac: mac.lowercased(), ip: address, name: host[attribute: "name"])
            }
            ipv4 = IPv4Config(address: address, prefix: prefix, dhcpStart: range?[attribute: "start"],
                              dhcpEnd: range?[attribute: "end"], hosts: hosts)
            break
        }
        let model = NetworkModel(name: name, mode: mode, bridge: root.child("bridge")?[attribute: "name"],
                                 ipv4: ipv4, ipv6: parseIPv6(root), dns: parseDNS(root),
                                 mtu: root.child("mtu")?[attribute: "size"].flatMap { Int($0) },
                                 uplink: NetworkModel.takesUplink(mode) ? forward?[attribute: "dev"] : nil,
                                 bandwidth: parseBandwidth(root.child("bandwidth")), portgroups: parsePortgroups(root), autostart: false)
        return ParsedNetwork(model: model, uuid: root.child("uuid")?.text ?? "",
                             hatch: ObservedHatch(live: Hatch.unowned(in: root, document: .network), complete: true))
    }

    /// The prefix length of a dotted netmask (`255.255.255.0` → 24).
    static func prefixLength(_ netmask: String) -> Int? {
        let parts = netmask.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        return parts.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// Parses a pool's persistent XML. Pools of a type the model lacks (`disk`, `scsi`, `mpath`,
    /// `gluster`, ...) throw; the session skips them.
    public static func parsePool(_ xml: String) throws(LibvirtXMLError) -> ParsedPool {
        let root = try XMLParser.parse(xml)
        guard root.name == "pool" else { throw LibvirtXMLError(message: "expected <pool>, found <\(root.name)>") }
        guard let name = root.child("name")?.text, !name.isEmpty else {
            throw LibvirtXMLError(message: "pool without a name")
        }
        guard let type = root[attribute: "type"].flatMap(PoolType.init(rawValue:)) else {
            throw LibvirtXMLError(message: "pool \(name) has the unsupported type '\(root[attribute: "type"] ?? "")'")
        }
        let source = root.child("source")
        var model = PoolModel(name: name, type: type, path: root.path("target/path")?.text ?? "", autostart: false)
        switch type {
        case .dir:
            break
        case .logical:
            model.volumeGroup = source?.child("name")?.text
            model.devices = source?.children(named: "device").compactMap { $0[attribute: "path"] } ?? []
        case .netfs:
            model.sourceHost = source?.child("host")?[attribute: "name"]
            model.sourceDir = source?.child("dir")?[attribute: "path"]
        case .fs:
            model.devices = source?.children(named: "device").compactMap { $0[attribute: "path"] } ?? []
            model.sourceFormat = source?.child("format")?[attribute: "type"].flatMap { $0 == "auto" ? nil : $0 }
        case .iscsi:
            model.sourceHost = source?.children(named: "host").compactMap(server).first
            model.devices = source?.children(named: "device").compactMap { $0[attribute: "path"] } ?? []
            model.initiator = source?.path("initiator/iqn")?[attribute: "name"]
            model.auth = source?.child("auth").flatMap(poolAuth)
        case .rbd:
            model.sourceName = source?.child("name")?.text
            let hosts = source?.children(named: "host").compactMap(server) ?? []
            model.sourceHosts = hosts.isEmpty ? nil : hosts
            model.auth = source?.child("auth").flatMap(poolAuth)
        case .zfs:
            model.sourceName = source?.child("name")?.text
            model.devices = source?.children(named: "device").compactMap { $0[attribute: "path"] } ?? []
        }
        return ParsedPool(model: model, uuid: root.child("uuid")?.text ?? "",
                          hatch: ObservedHatch(live: Hatch.unowned(in: root, document: .pool), complete: true))
    }

    /// `host` or `host:port` (IPv6 in brackets) from a pool source's `<host name port>`.
    private static func server(_ element: XElement) -> String? {
        element[attribute: "name"].map { NetworkDiskHosts.join($0, element[attribute: "port"]) }
    }

    /// A pool's `<auth type username><secret uuid|usage/></auth>`; a secret named by usage
    /// leaves the UUID empty.
    private static func poolAuth(_ element: XElement) -> DiskAuth? {
        guard let username = element[attribute: "username"] else { return nil }
        return DiskAuth(username: username, secretType: element[attribute: "type"] == "chap" ? "iscsi" : "ceph",
                        secretUUID: element.child("secret")?[attribute: "uuid"]?.lowercased() ?? "")
    }

    /// Parses a volume's XML (in pool `pool`). Formats other than `qcow2` and `iso` read as `raw`
    /// (a logical volume has no format and is raw).
    public static func parseVolume(_ xml: String, pool: String) throws(LibvirtXMLError) -> ParsedVolume {
        let root = try XMLParser.parse(xml)
        guard root.name == "volume" else { throw LibvirtXMLError(message: "expected <volume>, found <\(root.name)>") }
        guard let name = root.child("name")?.text, !name.isEmpty else {
            throw LibvirtXMLError(message: "volume without a name")
        }
        guard let capacity = size(root.child("capacity"), defaultUnit: "bytes") else {
            throw LibvirtXMLError(message: "volume \(pool)/\(name) has no capacity")
        }
        let format: VolumeFormat
        switch root.path("target/format")?[attribute: "type"] {
        case "qcow2": format = .qcow2
        case "iso": format = .iso
        default: format = .raw
        }
        let backing = root.path("backingStore/path")?.text.trimmed
        return ParsedVolume(model: VolumeModel(pool: pool, name: name, capacity: capacity, format: format,
                                               encryption: encryptionUUID(root.path("target/encryption"))),
                            path: root.path("target/path")?.text ?? "",
                            backingPath: (backing?.isEmpty ?? true) ? nil : backing)
    }
}
