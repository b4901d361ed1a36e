extension PlanBuilder {
    /// The source fields of an iscsi, rbd or zfs pool, as far as the spec gives them. Each change
    /// redefines the pool (`replace`: libvirt reads a pool's source only when it starts; the
    /// data on the target, the Ceph pool or the zpool is kept).
    ///
    /// What libvirt fills in is not drift: a portal or monitor written without a port matches
    /// the same host with any port (libvirt's default, 3260 or 6789), an initiator or zfs
    /// devices the spec leaves out are not compared.
    func networkSourceFields(_ before: PoolModel?, _ after: PoolModel, into fields: inout FieldList) {
        switch after.type {
        case .iscsi:
            fields.compare("source.host", before.map { Self.server($0.sourceHost ?? "", as: after.sourceHost) }, after.sourceHost, .replace)
            fields.compare("source.target", before?.devices.first, after.devices.first, .replace)
            if let initiator = after.initiator { fields.compare("source.initiator", before?.initiator, initiator, .replace) }
        case .rbd:
            fields.compare("source.name", before?.sourceName, after.sourceName, .replace)
            let wanted = after.sourceHosts ?? []
            let seen = before.map { live in
                (live.sourceHosts ?? []).enumerated().map { index, host in Self.server(host, as: index < wanted.count ? wanted[index] : nil) }
            }
            fields.compare("source.monitors", seen?.joined(separator: ","), wanted.joined(separator: ","), .replace)
        case .zfs:
            fields.compare("source.name", before?.sourceName, after.sourceName, .replace)
            if !after.devices.isEmpty {
                fields.compare("source.devices", before?.devices.joined(separator: ","), after.devices.joined(separator: ","), .replace)
            }
        case .dir, .logical, .netfs, .fs:
            return
        }
        if after.type != .zfs {
            // On creation, a pool without authentication says nothing about it.
            fields.compare("source.auth", before.map { Self.authSummary($0.auth) },
                           before == nil && after.auth == nil ? nil : Self.authSummary(after.auth), .replace)
        }
    }

    /// A live `host[:port]` as the spec writes it: without its port when the spec gives none.
    static func server(_ live: String, as wanted: String?) -> String {
        guard let wanted, NetworkDiskHosts.split(wanted).port == nil else { return live }
        return NetworkDiskHosts.split(live).name
    }

    /// `user (secret UUID)`, or `none`.
    static func authSummary(_ auth: DiskAuth?) -> String {
        guard let auth else { return "none" }
        return "\(auth.username) (secret \(auth.secretUUID.isEmpty ? "by usage" : auth.secretUUID))"
    }
}
