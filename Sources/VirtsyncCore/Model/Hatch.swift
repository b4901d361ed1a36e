import VirtsyncXML

/// An XML element of the escape hatch in canonical form: attribute order, quote style,
/// whitespace between elements and `<a/>` versus `<a></a>` do not count, and text is trimmed.
public struct HatchNode: Hashable, Codable, Sendable {
    public var name: String
    public var attributes: [String: String]
    /// The element's own text, trimmed; empty when it has none.
    public var text: String
    public var children: [HatchNode]

    public init(name: String, attributes: [String: String] = [:], text: String = "", children: [HatchNode] = []) {
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }

    package init(_ element: XElement) {
        name = element.name
        attributes = Dictionary(element.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        text = Hatch.trim(element.text)
        children = element.elements.map(HatchNode.init)
    }

    /// Whether `live` holds everything this element says: the same name, every attribute with
    /// the same value, the same text when this one has text, and each child matched by a
    /// distinct child of `live`. What libvirt adds (an `<address>`, a default attribute, a
    /// default text) does not count.
    public func isSatisfied(by live: HatchNode) -> Bool {
        guard name == live.name else { return false }
        for (key, value) in attributes where live.attributes[key] != value { return false }
        if !text.isEmpty && text != live.text { return false }
        return Hatch.match(children, in: live.children)
    }

    /// One line of canonical XML (attributes sorted), for plans.
    public var rendered: String {
        var out = "<\(name)"
        for key in attributes.keys.sorted() { out += " \(key)='\(XMLEscape.escape(attributes[key] ?? ""))'" }
        if text.isEmpty && children.isEmpty { return out + "/>" }
        out += ">" + XMLEscape.escape(text)
        for child in children { out += child.rendered }
        return out + "</\(name)>"
    }

    package var element: XElement {
        var element = XElement(name, attributes.keys.sorted().map { ($0, attributes[$0] ?? "") })
        if !text.isEmpty { element.children.append(.text(text)) }
        for child in children { element.append(child.element) }
        return element
    }
}

/// A raw XML element placed at a path (relative to the document's root, `devices/rng`).
public struct HatchLeaf: Hashable, Codable, Sendable {
    public var path: String
    public var node: HatchNode

    public init(path: String, node: HatchNode) {
        self.path = path
        self.node = node
    }
}

/// The raw XML of a resource as observed: the unowned elements of its live definition, and the
/// paths virtsync recorded as written by its escape hatch (a domain's marker; the inventory for
/// networks and pools).
public struct ObservedHatch: Hashable, Codable, Sendable {
    /// Paths virtsync's last write put raw XML at. Raw XML at a recorded path that the spec no
    /// longer has is removed.
    public var recorded: [String]
    /// Unowned elements of the definition: for a domain only under recorded paths, for a
    /// network or pool all of them (`complete`).
    public var live: [HatchLeaf]
    /// `live` lists every unowned element, not only those under recorded paths.
    public var complete: Bool

    public init(recorded: [String] = [], live: [HatchLeaf] = [], complete: Bool = false) {
        self.recorded = recorded
        self.live = live
        self.complete = complete
    }

    /// The observed hatch of a definition written from `leaves` (the in-memory hypervisor, the
    /// assumed state of an offline plan); `nil` without leaves, so that the observed state (and
    /// its fingerprint) of a resource without raw XML is what it always was.
    public static func written(_ leaves: [HatchLeaf], complete: Bool = false) -> ObservedHatch? {
        leaves.isEmpty ? nil : ObservedHatch(recorded: Hatch.paths(of: leaves), live: leaves, complete: complete)
    }
}

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
