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
