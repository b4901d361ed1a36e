import VirtsyncXML

/// The escape hatch's fragments: split into leaves at their paths (`HatchOwnership`), checked,
/// read back from libvirt's XML and compared.
public enum Hatch {
    /// What is wrong with a fragment element.
    public struct Problem: Sendable, Equatable {
        public var message: String
    }

    /// The leaves of parsed fragment elements placed under `base` (`""` for the root's
    /// children, `devices` for `xml.devices`), with the problems: elements owned by a field,
    /// attributes or text on a container.
    package static func leaves(_ elements: [XElement], under base: String, in document: HatchOwnership.Document) -> (leaves: [HatchLeaf], problems: [Problem]) {
        let table = HatchTable.of(document)
        var leaves: [HatchLeaf] = []
        var problems: [Problem] = []
        func visit(_ element: XElement, parent: String) {
            let path = parent.isEmpty ? element.name : "\(parent)/\(element.name)"
            let shown = "<" + path.split(separator: "/").joined(separator: "><") + ">"
            if let field = table.owner(path: path, attribute: { element[attribute: $0] }) {
                problems.append(Problem(message: "\(shown) is set by the field \(field); raw XML may not set it"))
                return
            }
            guard table.isContainer(path) else {
                leaves.append(HatchLeaf(path: path, node: HatchNode(element)))
                return
            }
            let owned = table.ownedAttributes(path)
            for attribute in element.attributes {
                if let field = owned.first(where: { $0.name == attribute.name })?.field {
                    problems.append(Problem(message: "\(shown) attribute '\(attribute.name)' is set by the field \(field); raw XML may not set it"))
                } else {
                    problems.append(Problem(message: "\(shown) is partly set by the spec's fields; raw XML may add elements inside it but not set its attribute '\(attribute.name)'"))
                }
            }
            if !trim(element.text).isEmpty {
                problems.append(Problem(message: "\(shown) is partly set by the spec's fields; raw XML may add elements inside it but no text"))
            }
            for child in element.elements { visit(child, parent: path) }
        }
        for element in elements { visit(element, parent: base) }
        return (leaves, problems)
    }

    /// The leaves of fragment text (parsed leniently: validation has parsed it strictly);
    /// empty when there is none or it does not parse.
    public static func leaves(_ fragment: String?, under base: String = "", in document: HatchOwnership.Document) -> [HatchLeaf] {
        guard let fragment, !fragment.isEmpty, let elements = try? XMLParser.parseFragment(fragment) else { return [] }
        return leaves(elements, under: base, in: document).leaves
    }

    /// The leaves of a domain's `xml.domain` and `xml.devices`.
    public static func leaves(_ extra: ExtraXML) -> [HatchLeaf] {
        leaves(extra.domain, in: .domain) + leaves(extra.devices, under: "devices", in: .domain)
    }

    /// The distinct paths of `leaves`, in order.
    public static func paths(of leaves: [HatchLeaf]) -> [String] {
        var seen: Set<String> = []
        return leaves.compactMap { seen.insert($0.path).inserted ? $0.path : nil }
    }

    /// The unowned elements of a definition (`root` is `<domain>`, `<network>` or `<pool>`), as
    /// leaves; only those at or under `covering` paths when it is given.
    package static func unowned(in root: XElement, document: HatchOwnership.Document, covering: Set<String>? = nil) -> [HatchLeaf] {
        let table = HatchTable.of(document)
        var out: [HatchLeaf] = []
        func visit(_ element: XElement, parent: String) {
            for child in element.elements {
                let path = parent.isEmpty ? child.name : "\(parent)/\(child.name)"
                if table.owner(path: path, attribute: { child[attribute: $0] }) != nil { continue }
                if table.isContainer(path) {
                    visit(child, parent: path)
                } else if covering.map({ covers($0, path) }) ?? true {
                    out.append(HatchLeaf(path: path, node: HatchNode(child)))
                }
            }
        }
        visit(root, parent: "")
        return out
    }

    /// Whether the element at `path` is unowned raw XML (not owned, not a container).
    package static func isUnowned(_ element: XElement, at path: String, document: HatchOwnership.Document) -> Bool {
        let table = HatchTable.of(document)
        return table.owner(path: path, attribute: { element[attribute: $0] }) == nil && !table.isContainer(path)
    }

    /// Whether the element at `path` is a container of `document`.
    package static func isContainer(_ path: String, document: HatchOwnership.Document) -> Bool {
        HatchTable.of(document).isContainer(path)
    }

    /// The recorded paths that name raw XML elements. A path that is a container now (a line
    /// added to `HatchOwnership` since it was recorded) is left out: below it are libvirt's and
    /// the model's elements as well, which must not be taken for raw XML.
    public static func recordedLeafPaths(_ recorded: [String], document: HatchOwnership.Document) -> Set<String> {
        let table = HatchTable.of(document)
        return Set(recorded.filter { !table.isContainer($0) })
    }

    /// Whether `path` is one of `recorded` or below one of them.
    public static func covers(_ recorded: Set<String>, _ path: String) -> Bool {
        if recorded.contains(path) { return true }
        var current = Substring(path)
        while let slash = current.lastIndex(of: "/") {
            current = current[..<slash]
            if recorded.contains(String(current)) { return true }
        }
        return false
    }

    /// Whether every wanted node is satisfied by a distinct live node (small lists: a search
    /// with backtracking, so the order of the live nodes does not matter).
    public static func match(_ wanted: [HatchNode], in live: [HatchNode]) -> Bool {
        var used = [Bool](repeating: false, count: live.count)
        func place(_ index: Int) -> Bool {
            guard index < wanted.count else { return true }
            for (j, candidate) in live.enumerated() where !used[j] && wanted[index].isSatisfied(by: candidate) {
                used[j] = true
                if place(index + 1) { return true }
                used[j] = false
            }
            return false
        }
        return place(0)
    }

    static func trim(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }
}
