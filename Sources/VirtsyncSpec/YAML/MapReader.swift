import VirtsyncCore
import Yams

/// Reads one YAML mapping of a spec document: refuses unknown keys (with a suggestion), and
/// hands out typed values with their positions, reporting every problem to the `Reporter`.
package struct MapReader {
    /// The file the mapping is in.
    package let file: String
    /// Key path of the mapping, e.g. `VirtualMachine[web-1].disks[0]`.
    package let path: String
    /// Where the mapping starts.
    package let location: SourceLocation
    package let reporter: Reporter
    private var entries: [String: (key: Node, value: Node)] = [:]
    /// Keys that an unknown key was probably meant to be: not reported again as missing.
    private var suggested: Set<String> = []

    /// Wraps `node`, which must be a mapping; otherwise reports a type error and returns nil.
    package init?(_ node: Node, file: String, path: String, keys: KeySet, reporter: Reporter) {
        self.file = file
        self.path = path
        self.location = node.location(in: file)
        self.reporter = reporter
        guard case .mapping(let mapping) = node else {
            reporter.error(location, path, "expected a mapping, got \(NodeValue.describe(node))")
            return nil
        }
        entries.reserveCapacity(mapping.count)
        collect(mapping, keys: keys, depth: 0)
    }

    /// Takes the keys of `mapping`; keys already taken win, so that a document's own keys
    /// override those it merges in with `<<: *anchor` (YAML merge keys, earlier merges first).
    private mutating func collect(_ mapping: Node.Mapping, keys: KeySet, depth: Int) {
        var merges: [Node] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                reporter.error(keyNode.location(in: file), path, "keys must be plain strings, got \(NodeValue.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if key == "<<", scalar.style == .plain || scalar.style == .any {
                merges.append(value)
                continue
            }
            guard keys.contains(key) else {
                let keyPath = path.isEmpty ? key : path + "." + key
                reporter.error(keyNode.location(in: file), keyPath, keys.unknownKeyMessage(key))
                if let suggestion = keys.suggestion(for: key) { suggested.insert(suggestion) }
                continue
            }
            if entries[key] == nil { entries[key] = (keyNode, value) }
        }
        for merge in merges {
            let sources: [Node]
            switch merge {
            case .mapping: sources = [merge]
            case .sequence(let sequence): sources = Array(sequence)
            default: sources = [merge]  // a scalar: refused below, never silently ignored
            }
            for source in sources {
                guard case .mapping(let merged) = source, depth < 8 else {
                    reporter.error(source.location(in: file), path.isEmpty ? "<<" : path + ".<<",
                                   "a merge key takes a mapping or a list of mappings, got \(NodeValue.describe(source))")
                    continue
                }
                collect(merged, keys: keys, depth: depth + 1)
            }
        }
    }

    /// `path.key`.
    package func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Whether the key is present with a non-null value.
    package func has(_ key: String) -> Bool { node(key) != nil }

    /// Where the key is written, or the mapping's start when it is absent.
    package func keyLocation(_ key: String) -> SourceLocation {
        entries[key]?.key.location(in: file) ?? location
    }

    /// Where the key's value is written, or the mapping's start when it is absent.
    package func valueLocation(_ key: String) -> SourceLocation {
        entries[key]?.value.location(in: file) ?? location
    }

    /// The value node of `key`; nil when absent or null (`key:` alone, `~`, `null`).
    package func node(_ key: String) -> Node? {
        guard let value = entries[key]?.value else { return nil }
        if case .null = NodeValue(value) { return nil }
        return value
    }

    /// Reports a missing required key and returns nil, for use in `guard` chains.
    package func missing(_ key: String, required: Bool) {
        if required, !suggested.contains(key) { reporter.error(location, keyPath(key), "missing required key '\(key)'") }
    }

    /// Reports a value of the wrong type.
    package func typeError(_ key: String, expected: String, got node: Node) {
        reporter.error(node.location(in: file), keyPath(key), "expected \(expected), got \(NodeValue.describe(node))")
    }

    /// A string value; any non-null scalar is accepted as its text as written.
    package func string(_ key: String, required: Bool = false) -> Located<String>? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        guard case .scalar(let scalar) = node else {
            typeError(key, expected: "a string", got: node)
            return nil
        }
        return Located(scalar.string, node.location(in: file))
    }

    /// An integer value, optionally within `range`.
    package func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Located<Int>? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        guard case .int(let value) = NodeValue(node) else {
            typeError(key, expected: "an integer", got: node)
            return nil
        }
        if let range, !range.contains(value) {
            reporter.error(node.location(in: file), keyPath(key),
                           "\(value) is out of range; expected \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return Located(value, node.location(in: file))
    }

    /// A boolean value (`true`/`false`; YAML 1.1 `yes`/`no`/`on`/`off` too).
    package func bool(_ key: String) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .bool(let value) = NodeValue(node) else {
            typeError(key, expected: "true or false", got: node)
            return nil
        }
        return value
    }

    /// A size with a unit (`4GiB`); a bare number is refused. Zero is refused unless `allowZero`.
    package func size(_ key: String, required: Bool = false, allowZero: Bool = false) -> Located<ByteSize>? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        guard case .scalar(let scalar) = node else {
            typeError(key, expected: "a size with a unit (e.g. 4GiB)", got: node)
            return nil
        }
        let location = node.location(in: file)
        let size: ByteSize
        do {
            size = try ByteSize.parse(scalar.string)
        } catch {
            reporter.error(location, keyPath(key), error.description)
            return nil
        }
        if size.bytes == 0 && !allowZero {
            reporter.error(location, keyPath(key), "size must be greater than zero")
            return nil
        }
        return Located(size, location)
    }

    /// One of `allowed` (by raw value), listing the allowed values when it is not.
    package func choice<E: RawRepresentable & Sendable>(_ key: String, _ allowed: [E], required: Bool = false) -> Located<E>?
    where E.RawValue == String {
        guard let text = string(key, required: required) else { return nil }
        guard let value = allowed.first(where: { $0.rawValue == text.value }) else {
            let names = allowed.map(\.rawValue)
            var message = "invalid value \(text.value.quotedForMessage); expected one of \(names.joined(separator: ", "))"
            if let close = Suggest.closest(to: text.value, among: names) {
                message += " (did you mean '\(close)'?)"
            }
            reporter.error(text.location, keyPath(key), message)
            return nil
        }
        return Located(value, text.location)
    }

    /// A nested mapping, read with its own key set.
    package func map(_ key: String, keys: KeySet, required: Bool = false) -> MapReader? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        return MapReader(node, file: file, path: keyPath(key), keys: keys, reporter: reporter)
    }

    /// The elements of a list value.
    package func list(_ key: String, required: Bool = false) -> [Node]? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        guard case .sequence(let sequence) = node else {
            typeError(key, expected: "a list", got: node)
            return nil
        }
        return Array(sequence)
    }

    /// A list of strings (any non-null scalars).
    package func stringList(_ key: String) -> [Located<String>]? {
        guard let nodes = list(key) else { return nil }
        var out: [Located<String>] = []
        out.reserveCapacity(nodes.count)
        for (index, element) in nodes.enumerated() {
            guard case .scalar(let scalar) = element, !isNull(NodeValue(element)) else {
                reporter.error(element.location(in: file), "\(keyPath(key))[\(index)]",
                               "expected a string, got \(NodeValue.describe(element))")
                continue
            }
            out.append(Located(scalar.string, element.location(in: file)))
        }
        return out
    }

    private func isNull(_ value: NodeValue) -> Bool {
        if case .null = value { return true }
        return false
    }
}
