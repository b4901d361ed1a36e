/// Compares the escape hatch's raw XML of the spec with what libvirt holds, path by path.
///
/// At each path the spec writes raw XML to, every element it writes must be satisfied by a
/// distinct element libvirt shows there (`HatchNode.isSatisfied`: what libvirt adds does not
/// count). Raw XML at a path virtsync recorded as written by it, and which the spec no longer
/// writes, is a change too (it is removed). Paths the spec never wrote and virtsync never
/// recorded are libvirt's or someone else's, and never compared.
enum HatchDiff {
    /// One changed path: `field` is `xml.<document>/<path>`.
    struct Change: Equatable {
        var field: String
        var before: String?
        var after: String?
    }

    static func changes(desired: [HatchLeaf], observed: ObservedHatch, document: HatchOwnership.Document) -> [Change] {
        let recorded = Hatch.recordedLeafPaths(observed.recorded, document: document)
        var order: [String] = Hatch.paths(of: desired)
        for leaf in observed.live where Hatch.covers(recorded, leaf.path) && !order.contains(leaf.path) { order.append(leaf.path) }
        var out: [Change] = []
        for path in order {
            let wanted = desired.filter { $0.path == path }.map(\.node)
            let ours = observed.complete || Hatch.covers(recorded, path)
            let live = ours ? observed.live.filter { $0.path == path }.map(\.node) : []
            let field = "xml.\(document.rawValue)/\(path)"
            if wanted.isEmpty {
                if Hatch.covers(recorded, path) && !live.isEmpty { out.append(Change(field: field, before: render(live), after: nil)) }
            } else if !Hatch.match(wanted, in: live) {
                out.append(Change(field: field, before: live.isEmpty ? nil : render(live), after: render(wanted)))
            }
        }
        return out
    }

    /// Field changes for a resource being created: each path the spec writes.
    static func creation(_ desired: [HatchLeaf], document: HatchOwnership.Document) -> [FieldChange] {
        Hatch.paths(of: desired).map { path in
            FieldChange(field: "xml.\(document.rawValue)/\(path)", before: nil,
                        after: render(desired.filter { $0.path == path }.map(\.node)), disruption: .none)
        }
    }

    static func render(_ nodes: [HatchNode]) -> String {
        let text = nodes.map(\.rendered).joined(separator: " ")
        return text.count > 300 ? String(text.prefix(299)) + "…" : text
    }
}
