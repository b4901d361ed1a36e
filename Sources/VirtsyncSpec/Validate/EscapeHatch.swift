import VirtsyncXML
import VirtsyncCore

/// The rules of the escape hatch (`xml.domain` and `xml.devices` of a VM, `xml.network` of a
/// network, `xml.pool` of a storage pool): raw libvirt XML for what the model has no field for.
/// Validation applies them, and so does `virtsync import` to what it would write, so a fragment
/// that reaches libvirt is one this check passed.
///
/// A fragment is parsed strictly (`XMLParser.parseStrictFragment`): well-formed content with no
/// declarations, entities or processing instructions, which cannot close the element it is put
/// in. Each element is then placed at its path (`HatchOwnership`): an element the model owns is
/// refused with the field that owns it named (`<memory>`: `memory/maxMemory`; `<os><loader>`:
/// `firmware/loader`), an element the model partly owns (`<os>`, `<cpu>`, `<devices>`,
/// a pool's `<target>`) is descended into, and anything else is raw XML, at any depth:
/// `<numatune><memory mode='strict' nodeset='0'/></numatune>` is `numatune`, not `memory`. Text
/// outside any element is refused (libvirt ignores it, so it is a mistake).
public enum EscapeHatch {
    /// Which field a fragment is for.
    public enum Field: String, Sendable {
        /// `xml.domain`: children of `<domain>`.
        case domain
        /// `xml.devices`: children of `<devices>`.
        case devices
        /// `xml.network`: children of `<network>`.
        case network
        /// `xml.pool`: children of `<pool>`.
        case pool

        /// The document the fragment goes into, and the path its elements are put under.
        var placement: (document: HatchOwnership.Document, base: String) {
            switch self {
            case .domain: return (.domain, "")
            case .devices: return (.domain, "devices")
            case .network: return (.network, "")
            case .pool: return (.pool, "")
            }
        }
    }

    /// What is wrong with a fragment.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based line within the fragment.
        public var line: Int
        public var message: String
        public var description: String { line > 1 ? "line \(line) of the XML: \(message)" : message }
    }

    /// The problems of `fragment` as the given field; empty when it may be used.
    public static func check(_ fragment: String, as field: Field) -> [Problem] {
        let nodes: [XNode]
        do {
            nodes = try XMLParser.parseStrictFragment(fragment)
        } catch {
            return [Problem(line: line(ofByte: error.offset, in: fragment), message: error.message)]
        }
        var problems: [Problem] = []
        var elements: [XElement] = []
        for node in nodes {
            switch node {
            case .element(let element):
                elements.append(element)
            case .text(let text):
                let shown = text.trimmingSpace.prefix(30)
                problems.append(Problem(line: 1, message: "text outside any element ('\(shown)'): a fragment holds elements only"))
            case .raw:
                break
            }
        }
        let placement = field.placement
        var seen: Set<String> = []
        for problem in Hatch.leaves(elements, under: placement.base, in: placement.document).problems where seen.insert(problem.message).inserted {
            problems.append(Problem(line: 1, message: problem.message))
        }
        return problems
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
