import VirtsyncCore
import Yams

/// Splits one spec file into YAML document trees, with libyaml's position for syntax errors.
///
/// The one place spec YAML is read, so its limits hold everywhere: a file is at most 1 MiB
/// (`SpecFile.maxSize`), libyaml refuses nesting deeper than 1,000 levels, and a file's
/// documents may expand to at most `maxExpandedNodes` nodes, every use of an alias counted
/// (a "billion laughs" of a few hundred bytes under a cloud-init value expands to billions of
/// nodes and hung `validate`), and to at most `maxExpandedDepth` levels. Anchors are scoped to
/// their document, and explicit tags are honoured or refused here (`ExplicitTags`).
package enum YAMLDocuments {
    /// The most nodes one file's documents may expand to, aliases counted at every use. A
    /// 1 MiB file without aliases has at most about 500,000.
    package static let maxExpandedNodes = 1_000_000
    /// The deepest nesting once aliases are expanded: libyaml's own limit for what is written.
    /// A chain of aliases to deep anchors nests far deeper than any one of them (500,000 levels
    /// within the node budget), and the readers after this one recurse.
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
            var budget = maxExpandedNodes
            while let root = try parser.nextRoot() {
                var document = root
                switch expand(root, budget: &budget) {
                case .fits(let tagged):
                    if tagged { document = ExplicitTags.apply(root, file: file, reporter: reporter) }
                case .tooDeep(let node):
                    reporter.error(node.location(in: file), "",
                                   "this document nests deeper than \(maxExpandedDepth) levels once its aliases are expanded")
                    index += 1
                    continue
                case .overBudget(let node):
                    reporter.error(node.location(in: file), "",
                                   "this file's YAML expands to more than \(maxExpandedNodes) nodes (every use of an alias counts): "
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
        /// The budget ran out at this node.
        case overBudget(Node)
        /// This node, reached through an alias, was anchored before the document began.
        case earlierDocument(Node)
    }

    /// Counts `root`'s nodes, aliases expanded, against `budget`, checks their depth, and checks
    /// that every node lies in the document (an alias may only use an anchor of its own
    /// document). Stops at the first problem: the work is bounded by the budget, not by the
    /// expansion.
    static func expand(_ root: Node, budget: inout Int) -> Expansion {
        var stack: [(node: Node, depth: Int, isKey: Bool)] = [(root, 1, false)]
        let start = root.mark.map { ($0.line, $0.column) }
        var tagged = false
        while let (node, depth, isKey) = stack.popLast() {
            budget -= 1
            if budget < 0 { return .overBudget(node) }
            if depth > maxExpandedDepth { return .tooDeep(node) }
            if let start, let mark = node.mark, (mark.line, mark.column) < start { return .earlierDocument(node) }
            if !tagged { tagged = isKey ? !ExplicitTags.isPlainKey(node) : !ExplicitTags.name(node).isEmpty }
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append((value, depth + 1, false))
                    stack.append((key, depth + 1, true))
                }
            case .sequence(let sequence):
                for element in sequence.reversed() { stack.append((element, depth + 1, false)) }
            default:
                break
            }
        }
        return .fits(tagged: tagged)
    }

    private static func report(_ error: YamlError, text: String, file: String, reporter: Reporter) {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
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
            let keys = duplicates.map(\.quotedForMessage).joined(separator: ", ")
            reporter.error(at(context.mark), "", "malformed YAML: duplicate key \(keys) in a mapping")
        default:
            reporter.error(SourceLocation(file: file), "", "malformed YAML: \(error)")
        }
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
