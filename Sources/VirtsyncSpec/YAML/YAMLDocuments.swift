import VirtsyncCore
import Yams

/// Splits one spec file into YAML document trees, with libyaml's position for syntax errors.
///
/// The one place spec YAML is read, so its limits hold everywhere: a file is at most 1 MiB
/// (`SpecFile.maxSize`, which bounds the nodes written), libyaml refuses nesting deeper than
/// 1,000 levels, a file's aliases may add at most `maxAliasNodes` nodes, every use counting its
/// target's whole subtree (a "billion laughs" of a few hundred bytes under a cloud-init value
/// expands to billions of nodes and hung `validate`), and documents may nest at most
/// `maxExpandedDepth` levels with aliases expanded. Anchors are scoped to
/// their document, and explicit tags are honoured or refused here (`ExplicitTags`).
package enum YAMLDocuments {
    /// The most nodes all aliases of one file may add (each use counts its target's whole
    /// subtree). Anchors belong to one document, so shared defaults add tens to hundreds per
    /// document; an alias bomb, billions. What aliases add is decoded (and a cloud-init value
    /// written out) in full, so the budget bounds that work too.
    package static let maxAliasNodes = 10_000
    /// The most scalar text all aliases of one file may add: an anchor on a long string, used
    /// many times, is within the node budget and would still write megabytes of cloud-init.
    package static let maxAliasBytes = 256 << 10
    /// The deepest nesting once aliases are expanded: libyaml's own limit for what is written.
    /// A chain of aliases to deep anchors nests far deeper than any one of them, and the readers
    /// after this one recurse.
    package static let maxExpandedDepth = 1_000

    /// The file's text, or nil (with an error reported) when it is not UTF-8 text.
    package static func text(of file: SpecFile, reporter: Reporter) -> String? {
        let location = SourceLocation(file: file.path)
        if file.bytes.contains(0) {
            reporter.error(location, "", "binary file: contains NUL bytes; spec files must be UTF-8 text")
            return nil
        }
        var bytes = file.bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            reporter.error(location, "", "binary file: not valid UTF-8 text")
            return nil
        }
        return text
    }

    /// Calls `body` with the root node and 0-based index of each document of `text`, in order.
    /// Empty documents are skipped. Returns false when the YAML is malformed; the error is
    /// reported and documents before it have already been handed to `body`.
    package static func forEach(in text: String, file: String, reporter: Reporter,
                        _ body: (_ root: Node, _ index: Int) -> Void) -> Bool {
        do {
            // `Resolver.basic`: scalars are typed by `NodeValue`, not by Yams' regular expressions,
            // which would otherwise dominate the cost of loading a large spec. The explicit
            // encoding spares Yams a read of the process environment per parser.
            let parser = try Parser(yaml: text, resolver: .basic, encoding: .utf8)
            var index = 0
            var aliasBudget = maxAliasNodes
            var aliasBytes = maxAliasBytes
            while let root = try parser.nextRoot() {
                var document = root
                switch expand(root, aliasBudget: &aliasBudget, aliasBytes: &aliasBytes) {
                case .fits(let tagged):
                    if tagged { document = ExplicitTags.apply(root, file: file, reporter: reporter) }
                case .tooDeep(let node):
                    reporter.error(node.location(in: file), "",
                                   "this document nests deeper than \(maxExpandedDepth) levels once its aliases are expanded")
                    index += 1
                    continue
                case .overAliasBudget(let node):
                    reporter.error(node.location(in: file), "",
                                   "this file's aliases expand to more than \(maxAliasNodes) nodes in all: "
                                   + "refused before it is read (an alias bomb?)")
                    return false
                case .overAliasBytes(let node):
                    reporter.error(node.location(in: file), "",
                                   "this file's aliases expand to more than 256 KiB of text in all: "
                                   + "refused before it is read (an alias bomb?)")
                    return false
                case .earlierDocument(let node):
                    // YAML scopes anchors to their document; the parser does not.
                    reporter.error(root.location(in: file), "",
                                   "an alias in this document refers to the anchor at line \(node.mark?.line ?? 0) of an earlier "
                                   + "document: anchors belong to the document that defines them")
                    index += 1
                    continue
                }
                if case .null = NodeValue(document) {} else { body(document, index) }
                index += 1
            }
            return true
        } catch let error as YamlError {
            report(error, text: text, file: file, reporter: reporter)
            return false
        } catch {
            reporter.error(SourceLocation(file: file), "", "malformed YAML: \(error)")
            return false
        }
    }

    enum Expansion {
        /// Within the limits; `tagged` when some node has an explicit tag (`ExplicitTags`).
        case fits(tagged: Bool)
        /// This node lies deeper than `maxExpandedDepth`.
        case tooDeep(Node)
        /// The alias budget ran out at this alias's target.
        case overAliasBudget(Node)
        /// The alias text budget ran out at this alias's target.
        case overAliasBytes(Node)
        /// This node, reached through an alias, was anchored before the document began.
        case earlierDocument(Node)
    }

    /// Counts what `root`'s aliases add against the alias budget, checks the depth with aliases
    /// expanded, and checks that every alias uses an anchor of its own document.
    ///
    /// Each anchored node is walked once, where it is defined; every alias to it then counts its
    /// remembered size and height without walking it again, so the work is bounded by what is
    /// written (at most 1 MiB), not by the expansion (billions of nodes in an alias bomb).
    static func expand(_ root: Node, aliasBudget: inout Int, aliasBytes: inout Int) -> Expansion {
        var walk = ExpansionWalk(start: root.mark.map { ($0.line, $0.column) }, aliasBudget: aliasBudget, aliasBytes: aliasBytes)
        let summary = walk.visit(root, depth: 1)
        aliasBudget = walk.aliasBudget
        aliasBytes = walk.aliasBytes
        if let problem = walk.problem { return problem }
        return .fits(tagged: summary?.tagged ?? false)
    }

    private static func report(_ error: YamlError, text: String, file: String, reporter: Reporter) {
        // libyaml ends a stream that lacks a final line break with one of its own, so an error at
        // the end of such a file is at a line past its last: shown at the end of the last line.
        let (lastLine, lastLineStart) = lines(in: Array(text.utf8))
        func at(_ mark: Mark) -> SourceLocation {
            guard mark.line > lastLine else { return SourceLocation(file: file, line: mark.line, column: mark.column) }
            let tail = text.utf8.dropFirst(lastLineStart)
            return SourceLocation(file: file, line: lastLine, column: String(decoding: tail, as: UTF8.self).count + 1)
        }
        func context(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case let .scanner(ctx, problem, mark, _), let .parser(ctx, problem, mark, _), let .composer(ctx, problem, mark, _):
            reporter.error(at(mark), "", "malformed YAML: \(problem)\(context(ctx))")
        case let .reader(problem, offset, _, _):
            let (line, column) = position(ofCharacter: offset ?? 0, in: text)
            reporter.error(SourceLocation(file: file, line: line, column: column), "", "malformed YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams names a key that is not a scalar "<uncovertable>", and orders such keys
            // against the others differently from one run to the next (the found-by-fuzzing
            // nondeterminism), so its position is then not the first key's: the file is named
            // without a line.
            let names = duplicates.filter { $0 != "<uncovertable>" }.sorted()
            let complex = duplicates.count - names.count
            var keys = names.map(\.quotedForMessage).joined(separator: ", ")
            if complex > 0 {
                keys += (keys.isEmpty ? "" : " and ") + (complex == 1 ? "a key that is not a string" : "\(complex) keys that are not strings")
            }
            reporter.error(complex == 0 ? at(context.mark) : SourceLocation(file: file), "", "malformed YAML: duplicate key \(keys) in a mapping")
        default:
            reporter.error(SourceLocation(file: file), "", "malformed YAML: \(error)")
        }
    }

    /// The number of lines in `bytes` as libyaml counts them (a line break is LF, CR, CR LF, NEL,
    /// LS or PS), and where the last line starts.
    package static func lines(in bytes: [UInt8]) -> (count: Int, lastStart: Int) {
        var count = 1, start = 0, i = 0
        while i < bytes.count {
            var width = 0
            switch bytes[i] {
            case 0x0A: width = 1
            case 0x0D: width = i + 1 < bytes.count && bytes[i + 1] == 0x0A ? 2 : 1
            case 0xC2 where i + 1 < bytes.count && bytes[i + 1] == 0x85: width = 2
            case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9): width = 3
            default: break
            }
            if width > 0 {
                count += 1
                i += width
                start = i
            } else {
                i += 1
            }
        }
        return (count, start)
    }

    /// 1-based line and column of the character at `offset`.
    private static func position(ofCharacter offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for (index, character) in text.enumerated() {
            if index >= offset { break }
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

/// The state of `YAMLDocuments.expand`.
struct ExpansionWalk {
    struct Summary {
        var count: Int
        /// Scalar text in the subtree, in UTF-8 bytes.
        var bytes: Int
        var height: Int
        var tagged: Bool
    }

    let start: (Int, Int)?
    var aliasBudget: Int
    var aliasBytes: Int
    var problem: YAMLDocuments.Expansion?
    /// Anchored nodes seen, by anchor and position (an anchor name may be defined again).
    var anchored: [String: Summary] = [:]

    init(start: (Int, Int)?, aliasBudget: Int, aliasBytes: Int) {
        self.start = start
        self.aliasBudget = aliasBudget
        self.aliasBytes = aliasBytes
    }

    /// Recursion is bounded by `maxExpandedDepth`: a node deeper is a problem, not a call.
    mutating func visit(_ node: Node, depth: Int, isKey: Bool = false) -> Summary? {
        if depth > YAMLDocuments.maxExpandedDepth {
            problem = .tooDeep(node)
            return nil
        }
        var key: String?
        if let anchor = node.anchor {
            let mark = node.mark
            let id = "\(anchor.rawValue)@\(mark?.line ?? 0):\(mark?.column ?? 0)"
            if let seen = anchored[id] {
                // An alias: counted, not walked again.
                if let start, let mark, (mark.line, mark.column) < start {
                    problem = .earlierDocument(node)
                    return nil
                }
                if depth - 1 + seen.height > YAMLDocuments.maxExpandedDepth {
                    problem = .tooDeep(node)
                    return nil
                }
                aliasBudget -= seen.count
                aliasBytes -= seen.bytes
                if aliasBudget < 0 { problem = .overAliasBudget(node); return nil }
                if aliasBytes < 0 { problem = .overAliasBytes(node); return nil }
                return seen
            }
            key = id
        }
        if let start, let mark = node.mark, (mark.line, mark.column) < start {
            problem = .earlierDocument(node)
            return nil
        }
        var scalarBytes = 0
        if case .scalar(let scalar) = node { scalarBytes = scalar.string.utf8.count }
        var summary = Summary(count: 1, bytes: scalarBytes, height: 1,
                              tagged: isKey ? !ExplicitTags.isPlainKey(node) : ExplicitTags.needsApply(node))
        func add(_ child: Summary) {
            summary.count += child.count
            summary.bytes += child.bytes
            summary.height = max(summary.height, child.height + 1)
            summary.tagged = summary.tagged || child.tagged
        }
        switch node {
        case .mapping(let mapping):
            for (k, value) in mapping {
                guard let keySummary = visit(k, depth: depth + 1, isKey: true) else { return nil }
                add(keySummary)
                guard let valueSummary = visit(value, depth: depth + 1) else { return nil }
                add(valueSummary)
            }
        case .sequence(let sequence):
            for element in sequence {
                guard let child = visit(element, depth: depth + 1) else { return nil }
                add(child)
            }
        default:
            break
        }
        if let key { anchored[key] = summary }
        return summary
    }
}
