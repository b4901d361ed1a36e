import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// Attribute of the domain's ownership marker listing the paths raw XML was written to
    /// (`clock os/bootmenu devices/rng`), so that an update removes what the spec dropped.
    static let hatchPathsAttribute = "hatch-paths"
    /// Attributes of markers written before `hatch-paths`: the top-level element names of
    /// `xml.domain` and of `xml.devices`. Still read, so a domain defined by an older virtsync
    /// converges without being rewritten.
    static let extraDomainElementsAttribute = "extra-domain-elements"
    static let extraDeviceElementsAttribute = "extra-device-elements"

    /// The raw XML paths a domain's ownership marker records.
    static func recordedHatchPaths(_ marker: XElement?) -> [String] {
        guard let marker else { return [] }
        func words(_ name: String) -> [String] { marker[attribute: name]?.split(separator: " ").map(String.init) ?? [] }
        var paths = words(hatchPathsAttribute) + words(extraDomainElementsAttribute)
        paths += words(extraDeviceElementsAttribute).map { "devices/\($0)" }
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }

    /// Writes raw XML leaves into a definition (`root` is `<domain>`, `<network>` or `<pool>`).
    ///
    /// At each path the leaves or `recorded` name, the unowned elements there are removed, and
    /// the leaves are added under their parent (containers made when missing). With
    /// `keepMatching`, an element already there that satisfies a leaf stays instead (an update
    /// keeps libvirt's additions to it, such as a device's `<address>`); a new definition takes
    /// the leaves as written, replacing the builder's defaults at their paths (`<features>`).
    /// Owned elements are never touched.
    static func applyHatch(_ leaves: [HatchLeaf], recorded: [String], document: HatchOwnership.Document,
                           keepMatching: Bool, to root: inout XElement) {
        let cleared = Hatch.recordedLeafPaths(recorded, document: document).union(leaves.map(\.path))
        guard !cleared.isEmpty else { return }
        var pending: [String: [HatchNode]] = [:]
        for leaf in leaves { pending[leaf.path, default: []].append(leaf.node) }
        func walk(_ element: inout XElement, _ parent: String) {
            var kept: [XNode] = []
            for node in element.children {
                guard case .element(var child) = node else { kept.append(node); continue }
                let path = parent.isEmpty ? child.name : "\(parent)/\(child.name)"
                if Hatch.isUnowned(child, at: path, document: document) {
                    guard Hatch.covers(cleared, path) else { kept.append(node); continue }
                    if keepMatching, let index = pending[path]?.firstIndex(where: { $0.isSatisfied(by: HatchNode(child)) }) {
                        pending[path]?.remove(at: index)
                        kept.append(node)
                    }
                } else if Hatch.isContainer(path, document: document) {
                    walk(&child, path)
                    kept.append(.element(child))
                } else {
                    kept.append(node)
                }
            }
            element.children = kept
        }
        walk(&root, "")
        for leaf in leaves {
            guard let index = pending[leaf.path]?.firstIndex(of: leaf.node) else { continue }
            pending[leaf.path]?.remove(at: index)
            insert(leaf.node.element, under: leaf.path.split(separator: "/").dropLast().map(String.init)[...], into: &root)
        }
    }

    private static func insert(_ element: XElement, under parents: ArraySlice<String>, into target: inout XElement) {
        guard let first = parents.first else {
            target.append(element)
            return
        }
        target.modifyChild(first) { insert(element, under: parents.dropFirst(), into: &$0) }
    }

    /// Whether every raw XML leaf is satisfied by the definition's unowned elements (the spec's
    /// raw XML is in place).
    static func hatchHolds(_ leaves: [HatchLeaf], in root: XElement, document: HatchOwnership.Document) -> Bool {
        guard !leaves.isEmpty else { return true }
        let live = Hatch.unowned(in: root, document: document)
        for path in Hatch.paths(of: leaves) {
            let wanted = leaves.filter { $0.path == path }.map(\.node)
            if !Hatch.match(wanted, in: live.filter { $0.path == path }.map(\.node)) { return false }
        }
        return true
    }
}
