import VirtsyncCore

extension DocumentDecoder {
    static let networkDiskKeys = KeySet(["protocol", "name", "hosts", "auth"])
    static let diskAuthKeys = KeySet(["username", "secret"])

    /// `network:` of a disk: `protocol` (rbd, iscsi, nbd), `name` (rbd: `pool/image`; iscsi:
    /// `IQN/LUN`; nbd: the export, optional), `hosts` (`host` or `host:port`; nbd: one), and
    /// `auth: {username, secret}` naming a Secret (rbd and iscsi only).
    func readNetworkDisk(_ map: MapReader) -> NetworkDiskSpec? {
        guard let network = map.map("network", keys: Self.networkDiskKeys) else { return nil }
        guard let proto = network.choice("protocol", NetworkDiskProtocol.allCases, required: true) else { return nil }
        var out = NetworkDiskSpec(protocol: proto.value, hosts: [], location: network.location)
        var valid = true
        if let name = network.string("name", required: proto.value != .nbd) {
            if let problem = Self.networkDiskNameProblem(name.value, proto.value) {
                reporter.error(name.location, network.keyPath("name"), problem)
                valid = false
            } else {
                out.name = name.value
            }
        } else if proto.value != .nbd {
            valid = false
        }
        if !network.has("hosts") { network.missing("hosts", required: true) }
        if let hosts = network.stringList("hosts") {
            if hosts.isEmpty || (proto.value == .nbd && hosts.count != 1) {
                reporter.error(network.valueLocation("hosts"), network.keyPath("hosts"),
                               proto.value == .nbd ? "an nbd disk names exactly one server" : "give at least one server (host or host:port)")
                valid = false
            }
            for (index, host) in hosts.enumerated() {
                if let problem = Self.serverProblem(host.value) {
                    reporter.error(host.location, "\(network.keyPath("hosts"))[\(index)]", problem)
                    valid = false
                } else {
                    out.hosts.append(host.value)
                }
            }
        } else {
            valid = false
        }
        if let auth = network.map("auth", keys: Self.diskAuthKeys) {
            if proto.value.secretType == nil {
                reporter.error(network.keyLocation("auth"), network.keyPath("auth"), "an nbd disk has no authentication in libvirt")
                valid = false
            }
            if let username = auth.string("username", required: true) {
                if username.value.isEmpty || username.value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" }) {
                    reporter.error(username.location, auth.keyPath("username"), "a user name is one word without quotes")
                    valid = false
                } else {
                    out.username = username.value
                }
            }
            out.secret = readNameRef(auth, "secret", required: true)
            if out.secret == nil || out.username == nil { valid = false }
        }
        return valid ? out : nil
    }

    static func networkDiskNameProblem(_ name: String, _ proto: NetworkDiskProtocol) -> String? {
        if name.isEmpty || name.count > 1024 || name.contains(where: { $0.isWhitespace || $0.isNewline }) {
            return "a network disk's name is 1 to 1024 characters without spaces"
        }
        switch proto {
        case .rbd:
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts.allSatisfy({ !$0.isEmpty }) ? nil : "an rbd disk's name is pool/image"
        case .iscsi:
            guard let slash = name.lastIndex(of: "/"), name[..<slash].hasPrefix("iqn.") || name[..<slash].hasPrefix("eui."),
                  let lun = Int(name[name.index(after: slash)...]), lun >= 0 else {
                return "an iscsi disk's name is the target's IQN and the LUN: iqn.2013-06.com.example:target/0"
            }
            return nil
        case .nbd:
            return nil
        }
    }

    /// `host`, `host:port` or `[IPv6]:port`, with a port in 1...65535.
    static func serverProblem(_ text: String) -> String? {
        let (name, port) = NetworkDiskHosts.split(text)
        if let port, (Int(port).map { !(1...65535).contains($0) } ?? true) {
            return "\(text.quotedForMessage): the port must be 1 to 65535"
        }
        if name.isEmpty || name.count > 253 || name.contains(where: { !($0.isLetter || $0.isNumber || ".-_:".contains($0)) }) {
            return "\(text.quotedForMessage) is not a host name or address (host or host:port; [IPv6]:port)"
        }
        return nil
    }
}
