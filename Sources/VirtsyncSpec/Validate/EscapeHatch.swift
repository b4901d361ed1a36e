import VirtsyncXML

/// The rules of a VM's escape hatch (`xml.domain`, `xml.devices`): raw libvirt XML for what the
/// model has no field for. Validation applies them, and so does `virtsync import` to what it
/// would write, so a fragment that reaches libvirt is one this check passed.
///
/// A fragment is parsed strictly (`XMLParser.parseStrictFragment`): well-formed content with no
/// declarations, entities or processing instructions, which cannot close the element it is put
/// in. On the parsed tree, at every depth, no element may be one the model owns: the domain's
/// `name`, `uuid`, `memory`, `currentMemory`, `vcpu`, `os`, `cpu`, `devices` and `metadata`,
/// and the devices `disk`, `interface`, `graphics`, `serial` and `console`. Those would be
/// compared as the model's and fought over on every pass (or, nested, are a way to smuggle
/// them in). Two nestings libvirt defines as something else are allowed: `<numatune><memory>`
/// and the memory device `<devices><memory>`. Text outside any element is refused (libvirt ignores it, so it is a
/// mistake).
public enum EscapeHatch {
    /// Which field a fragment is for.
    public enum Field: String, Sendable {
        /// `xml.domain`: children of `<domain>`.
        case domain
        /// `xml.devices`: children of `<devices>`.
        case devices
    }

    /// What is wrong with a fragment.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based line within the fragment.
        public var line: Int
        public var message: String
        public var description: String { line > 1 ? "line \(line) of the XML: \(message)" : message }
    }

    static let ownedDomainElements: Set<String> = ["name", "uuid", "memory", "currentMemory", "vcpu", "os", "cpu", "devices", "metadata"]
    static let ownedDeviceElements: Set<String> = ["disk", "interface", "graphics", "serial", "console"]
    /// Elements named like owned ones that libvirt reads as something else under this parent
    /// (`devices` is the parent of a `xml.devices` fragment's elements, `domain` of a
    /// `xml.domain` fragment's): NUMA memory placement and a memory (DIMM) device.
    static let allowedNestings: Set<String> = ["numatune/memory", "devices/memory"]

    /// The problems of `fragment` as the given field; empty when it may be used.
    public static func check(_ fragment: String, as field: Field) -> [Problem] {
        let nodes: [XNode]
        do {
            nodes = try XMLParser.parseStrictFragment(fragment)
        } catch {
            return [Problem(line: line(ofByte: error.offset, in: fragment), message: error.message)]
        }
        var problems: [Problem] = []
        var refused: [String] = []
        for node in nodes {
            switch node {
            case .element(let element):
                collectOwned(element, parent: field.rawValue, into: &refused)
            case .text(let text):
                let shown = text.trimmingSpace.prefix(30)
                problems.append(Problem(line: 1, message: "text outside any element ('\(shown)'): a fragment holds elements only"))
            case .raw:
                break
            }
        }
        if !refused.isEmpty {
            problems.append(Problem(line: 1, message: "raw XML may not hold <\(refused.joined(separator: ">, <"))>: the spec has fields for that (use them instead)"))
        }
        return problems
    }

    /// Owned element names in `element`'s subtree, in document order, each once.
    private static func collectOwned(_ element: XElement, parent: String, into names: inout [String]) {
        var stack: [(XElement, String)] = [(element, parent)]
        while let (node, parentName) = stack.popLast() {
            let owned = ownedDomainElements.contains(node.name) || ownedDeviceElements.contains(node.name)
            if owned, !allowedNestings.contains("\(parentName)/\(node.name)"), !names.contains(node.name) {
                names.append(node.name)
            }
            for child in node.elements.reversed() { stack.append((child, node.name)) }
        }
    }

    /// 1-based line of the byte at `offset`.
    static func line(ofByte offset: Int, in text: String) -> Int {
        1 + text.utf8.prefix(max(0, offset)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}

private extension String {
    var trimmingSpace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
