/// A node of the small XML tree the adapter builds, parses and edits.
///
/// Only what libvirt's documents use: elements, text and verbatim fragments. Comments and
/// processing instructions are dropped when parsing; namespace prefixes are kept as part of the
/// names (`virtsync:managed`, `xmlns:virtsync`), which is all libvirt's metadata needs.
package enum XNode: Hashable, Sendable {
    case element(XElement)
    /// Character data, escaped on output.
    case text(String)
    /// Markup written out verbatim (the user's extra XML fragments).
    case raw(String)
}

/// An XML element with ordered attributes and children.
package struct XElement: Hashable, Sendable {
    package var name: String
    package var attributes: [(name: String, value: String)]
    package var children: [XNode]

    package init(_ name: String, _ attributes: [(String, String)] = [], children: [XNode] = []) {
        self.name = name
        self.attributes = attributes.map { (name: $0.0, value: $0.1) }
        self.children = children
    }

    /// An element holding only text.
    package init(_ name: String, _ attributes: [(String, String)] = [], text: String) {
        self.init(name, attributes, children: [.text(text)])
    }

    package static func == (a: XElement, b: XElement) -> Bool {
        a.name == b.name && a.children == b.children
            && a.attributes.count == b.attributes.count
            && zip(a.attributes, b.attributes).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        for attribute in attributes {
            hasher.combine(attribute.name)
            hasher.combine(attribute.value)
        }
        hasher.combine(children)
    }

    /// The value of an attribute.
    package subscript(attribute name: String) -> String? {
        get { attributes.first { $0.name == name }?.value }
        set {
            if let index = attributes.firstIndex(where: { $0.name == name }) {
                if let newValue { attributes[index].value = newValue } else { attributes.remove(at: index) }
            } else if let newValue {
                attributes.append((name: name, value: newValue))
            }
        }
    }

    /// Child elements, in order.
    package var elements: [XElement] {
        children.compactMap { if case .element(let e) = $0 { return e } else { return nil } }
    }

    /// The first child element with this name.
    package func child(_ name: String) -> XElement? {
        for case .element(let e) in children where e.name == name { return e }
        return nil
    }

    /// All child elements with this name.
    package func children(named name: String) -> [XElement] {
        elements.filter { $0.name == name }
    }

    /// The element at a `/`-separated path of child names (`os/type`).
    package func path(_ path: String) -> XElement? {
        var current = self
        for part in path.split(separator: "/") {
            guard let next = current.child(String(part)) else { return nil }
            current = next
        }
        return current
    }

    /// The element's text content (direct text children, concatenated).
    package var text: String {
        var result = ""
        for case .text(let t) in children { result += t }
        return result
    }

    /// Appends a child element.
    package mutating func append(_ element: XElement) { children.append(.element(element)) }

    /// Removes every child element for which `predicate` is true.
    package mutating func removeElements(where predicate: (XElement) -> Bool) {
        children.removeAll { if case .element(let e) = $0 { return predicate(e) } else { return false } }
    }

    /// Replaces the first child element named `name` (or appends it) with `element`; removes it
    /// when `element` is `nil`.
    package mutating func setChild(_ name: String, _ element: XElement?) {
        if let index = children.firstIndex(where: { if case .element(let e) = $0 { return e.name == name } else { return false } }) {
            if let element { children[index] = .element(element) } else { children.remove(at: index) }
            // Drop duplicates so the element stays unique.
            var seen = false
            children.removeAll {
                guard case .element(let e) = $0, e.name == name else { return false }
                defer { seen = true }
                return seen
            }
        } else if let element {
            children.append(.element(element))
        }
    }

    /// Applies `change` to the first child element named `name`, creating it when missing.
    package mutating func modifyChild(_ name: String, _ change: (inout XElement) -> Void) {
        if let index = children.firstIndex(where: { if case .element(let e) = $0 { return e.name == name } else { return false } }),
           case .element(var e) = children[index] {
            change(&e)
            children[index] = .element(e)
        } else {
            var e = XElement(name)
            change(&e)
            children.append(.element(e))
        }
    }
}

/// Escaping of text and attribute values.
package enum XMLEscape {
    /// `s` with `& < > " '` replaced by entities, safe in text and in either kind of quotes.
    package static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

extension XElement {
    /// The element as an indented document (two spaces per level, libvirt's own style).
    package func serialized() -> String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        out += pad
        out += "<"
        out += name
        for attribute in attributes {
            out += " \(attribute.name)='\(XMLEscape.escape(attribute.value))'"
        }
        if children.isEmpty {
            out += "/>\n"
            return
        }
        if children.count == 1, case .text(let t) = children[0] {
            out += ">\(XMLEscape.escape(t))</\(name)>\n"
            return
        }
        out += ">\n"
        for child in children {
            switch child {
            case .element(let e):
                e.write(into: &out, indent: indent + 2)
            case .text(let t):
                out += pad + "  " + XMLEscape.escape(t) + "\n"
            case .raw(let r):
                out += r
                if !r.hasSuffix("\n") { out += "\n" }
            }
        }
        out += pad + "</\(name)>\n"
    }
}
