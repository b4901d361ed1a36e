extension NetworkDiff {
    /// `portgroups`: compared by name; a group added, removed or changed is applied live
    /// (`virNetworkUpdate`, section portgroup). Left out, the network's groups are libvirt's and
    /// not compared; given, the list is the whole set (a group libvirt has and the list lacks is
    /// removed).
    static func portgroups(_ before: NetworkModel?, _ after: NetworkModel) -> [FieldChange] {
        guard let wanted = after.portgroups else { return [] }
        let creating = before == nil
        let old = Dictionary((before?.portgroups ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(wanted.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return Set(old.keys).union(new.keys).sorted().compactMap { name in
            guard old[name] != new[name] else { return nil }
            return FieldChange(field: "portgroups[\(name)]", before: old[name]?.summary, after: new[name]?.summary,
                               disruption: creating ? .none : .live)
        }
    }
}
