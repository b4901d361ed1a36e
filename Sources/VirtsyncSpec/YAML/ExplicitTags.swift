import VirtsyncCore
import Yams

/// Explicit YAML tags in a spec: the core schema's `!!str`, `!!int`, `!!bool`, `!!null`, `!!map`
/// and `!!seq` (and the non-specific `!`) are honoured as YAML defines them; every other tag
/// (`!!binary`, `!!float`, `!!timestamp`, `!!set`, local tags such as `!vault`, verbatim tags) is
/// refused at its line. No tag is ignored: before this, `!!str 1` was read as the integer 1 and
/// `!!binary` data as text.
///
/// A spec reads a scalar's type from its style (plain text is typed, quoted text is a string;
/// `NodeValue`), so honouring a tag means rewriting the scalar's style: `!!str 1` becomes the
/// quoted `'1'`, `!!int "2"` the plain `2`. `YAMLDocuments.expand` says whether a document has a
/// tag at all, so an untagged document (nearly all of them) is not copied.
enum ExplicitTags {
    static let str = "tag:yaml.org,2002:str"
    static let int = "tag:yaml.org,2002:int"
    static let bool = "tag:yaml.org,2002:bool"
    static let null = "tag:yaml.org,2002:null"
    static let map = "tag:yaml.org,2002:map"
    static let seq = "tag:yaml.org,2002:seq"

    /// The tag as the parser gave it ("" when none). Read from the node's struct: `Node.tag`
    /// would resolve (and so change) an untagged node's tag.
    static func name(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.tag.rawValue
        case .mapping(let mapping): return mapping.tag.rawValue
        case .sequence(let sequence): return sequence.tag.rawValue
        case .alias: return ""
        }
    }

    /// Whether `apply` has anything to do for this value node. Yams gives every quoted scalar
    /// the tag `!!str` (libyaml's "quoted implicit"); a quoted scalar is a string already, so
    /// that alone is no reason to rewrite a document (nearly every document quotes a MAC).
    static func needsApply(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node {
            let tag = scalar.tag.rawValue
            if tag.isEmpty { return false }
            return !(tag == str && scalar.style != .plain && scalar.style != .any)
        }
        return !name(node).isEmpty
    }

    /// Whether a mapping key's tag is acceptable as it stands. Yams hashes keys while composing
    /// (its duplicate-key check), which resolves an untagged key's tag to `!!str` in place, so a
    /// key's `!!str` cannot be told from no tag, and either is fine: keys are strings.
    static func isPlainKey(_ node: Node) -> Bool {
        let tag = name(node)
        return tag.isEmpty || tag == "!" || tag == str
    }

    /// How a message names a tag: `!!binary` for the core schema's, the tag as written otherwise.
    static func display(_ name: String) -> String {
        let prefix = "tag:yaml.org,2002:"
        if name.hasPrefix(prefix) { return "!!" + name.dropFirst(prefix.count) }
        return name
    }

    static let accepted = "the tags a spec reads are !!str, !!int, !!bool, !!null, !!map and !!seq"

    /// `node` with its tags applied; refused tags are reported and their nodes kept as written.
    /// Recursion is bounded by `YAMLDocuments.maxExpandedDepth`, checked before.
    static func apply(_ node: Node, file: String, reporter: Reporter) -> Node {
        switch node {
        case .scalar(var scalar):
            let name = scalar.tag.rawValue
            guard !name.isEmpty else { return node }
            let plain = scalar.style == .plain || scalar.style == .any
            func refuse(_ why: String) -> Node {
                reporter.error(node.location(in: file), "", why)
                return node
            }
            switch name {
            case "!", str:
                if plain { scalar.style = .singleQuoted }
            case int, bool, null:
                var typed = scalar
                typed.style = .plain
                typed.tag = .implicit
                let value = NodeValue(.scalar(typed))
                switch (name, value) {
                case (int, .int), (bool, .bool), (null, .null):
                    return .scalar(typed)
                default:
                    let kind = name == int ? "an integer" : name == bool ? "a boolean (true or false)" : "null"
                    return refuse("\(display(name)) \(scalar.string.quotedForMessage) is not \(kind)")
                }
            case map, seq:
                return refuse("\(display(name)) on a scalar: \(accepted), each on a value of its own kind")
            default:
                return refuse("explicit tag \(display(name)) is not supported in a spec (\(accepted)); "
                              + "write the value without it")
            }
            scalar.tag = .implicit
            return .scalar(scalar)
        case .mapping(let mapping):
            let name = mapping.tag.rawValue
            if !(name.isEmpty || name == "!" || name == map) {
                reporter.error(node.location(in: file), "", "explicit tag \(display(name)) on a mapping is not supported in a spec (\(accepted))")
            }
            let pairs = mapping.map { pair -> (Node, Node) in
                if !isPlainKey(pair.key) {
                    reporter.error(pair.key.location(in: file), "",
                                   "explicit tag \(display(ExplicitTags.name(pair.key))) on a key: keys are strings")
                }
                return (pair.key, apply(pair.value, file: file, reporter: reporter))
            }
            return .mapping(Node.Mapping(pairs, .implicit, mapping.style, mapping.mark))
        case .sequence(let sequence):
            let name = sequence.tag.rawValue
            if !(name.isEmpty || name == "!" || name == seq) {
                reporter.error(node.location(in: file), "", "explicit tag \(display(name)) on a list is not supported in a spec (\(accepted))")
            }
            let nodes = sequence.map { apply($0, file: file, reporter: reporter) }
            return .sequence(Node.Sequence(nodes, .implicit, sequence.style, sequence.mark))
        case .alias:
            return node
        }
    }
}
