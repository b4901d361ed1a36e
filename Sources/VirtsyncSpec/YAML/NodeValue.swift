import VirtsyncCore
import Yams

/// What a YAML node holds, classified by the loader itself. The parser runs with Yams'
/// `Resolver.basic` (no regular expressions per scalar), so plain scalars are typed here with
/// the YAML 1.1 core rules that matter for a spec: null, booleans, integers.
package enum NodeValue {
    case null
    case bool(Bool)
    case int(Int)
    /// Any other scalar: quoted, block, or plain text that is not null, bool or int.
    case string(String)
    case mapping(Node.Mapping)
    case sequence(Node.Sequence)

    package init(_ node: Node) {
        switch node {
        case .scalar(let scalar):
            self = NodeValue.classify(scalar)
        case .mapping(let mapping):
            self = .mapping(mapping)
        case .sequence(let sequence):
            self = .sequence(sequence)
        case .alias:
            // Yams resolves aliases while composing; an alias node never reaches us.
            self = .null
        }
    }

    private static func classify(_ scalar: Node.Scalar) -> NodeValue {
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL":
            return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
            return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
            return .bool(false)
        default:
            if let int = parseInt(text) { return .int(int) }
            return .string(text)
        }
    }

    private static func parseInt(_ text: String) -> Int? {
        let utf8 = text.utf8
        guard let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return nil }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// How a message names what was found: `a mapping`, `a list`, `'text'`.
    package static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch NodeValue(node) {
            case .null: return "null"
            case .bool(let value): return "the boolean \(value)"
            case .int(let value): return "the number \(value)"
            default:
                let plain = scalar.style == .plain || scalar.style == .any
                return (plain ? "" : "the string ") + scalar.string.quotedForMessage
            }
        }
    }
}

extension Node {
    /// The node's position in `file`, or the start of the file when Yams gave none.
    package func location(in file: String) -> SourceLocation {
        guard let mark = mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }
}
