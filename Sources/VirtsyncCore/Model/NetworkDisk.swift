/// The protocols of a network disk (`<disk type='network'>`).
public enum NetworkDiskProtocol: String, Codable, Sendable, CaseIterable {
    /// A Ceph RBD image (`name`: `pool/image`); authenticated with a `ceph` secret.
    case rbd
    /// An iSCSI LUN (`name`: `IQN/LUN`); authenticated (CHAP) with an `iscsi` secret.
    case iscsi
    /// An NBD export (`name`: the export, or none for the server's default); one server.
    case nbd

    /// libvirt's secret usage type for this protocol's authentication (nil: none).
    public var secretType: String? {
        switch self {
        case .rbd: "ceph"
        case .iscsi: "iscsi"
        case .nbd: nil
        }
    }
}

/// How a network disk authenticates: a user name and the libvirt secret object holding the key,
/// which virtsync keeps from a Secret document (one object per VM and Secret, like the escape
/// hatch's `((secret-uuid:NAME:TYPE))`).
public struct DiskAuth: Hashable, Codable, Sendable {
    public var username: String
    /// The secret object's usage type (`ceph`, `iscsi`).
    public var secretType: String
    /// The secret object's UUID.
    public var secretUUID: String

    public init(username: String, secretType: String, secretUUID: String) {
        self.username = username
        self.secretType = secretType
        self.secretUUID = secretUUID
    }
}

/// A disk served over the network: RBD, iSCSI or NBD. Shared by nature: a live migration never
/// copies it, and an HA VM on it can fail over.
public struct NetworkDisk: Hashable, Codable, Sendable {
    public var `protocol`: NetworkDiskProtocol
    /// `pool/image` (rbd), `IQN/LUN` (iscsi), the export (nbd, optional).
    public var name: String?
    /// Servers as `host` or `host:port` (rbd: the monitors; iscsi: the portal; nbd: the server).
    public var hosts: [String]
    public var auth: DiskAuth?

    public init(protocol: NetworkDiskProtocol, name: String?, hosts: [String], auth: DiskAuth? = nil) {
        self.protocol = `protocol`
        self.name = name
        self.hosts = hosts
        self.auth = auth
    }

    /// `rbd://mon-1:6789/pool/image`, for plans and notes.
    public var summary: String {
        "\(`protocol`.rawValue)://\(hosts.joined(separator: ","))\(name.map { "/\($0)" } ?? "")\(auth.map { " (auth \($0.username))" } ?? "")"
    }
}
