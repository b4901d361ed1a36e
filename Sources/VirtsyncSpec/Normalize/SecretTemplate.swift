import VirtsyncCore

/// `((secret:NAME))` placeholders in cloud-init content: the content split into text and
/// secrets, and the placeholders that are malformed.
enum SecretTemplate {
    static let open = Array("((secret:".utf8)
    static let close = Array("))".utf8)

    enum Piece: Equatable {
        case text([UInt8])
        /// A secret's name and the line of the placeholder, counted from 0 in the content.
        case secret(String, line: Int)
    }

    struct Problem {
        var line: Int
        var message: String
    }

    /// Where line `line` (from 0) of a text held in the spec is. A text given at `at` as a YAML
    /// value starts there when it is one line, and at the start of the next line when it is a
    /// block scalar; a file's text (`at` nil) starts at line 1 of `file`.
    static func location(line: Int, of text: some Sequence<UInt8>, at: SourceLocation?, file: String) -> SourceLocation {
        guard let at else { return SourceLocation(file: file, line: 1 + line, column: 1) }
        let block = text.contains(UInt8(ascii: "\n"))
        return SourceLocation(file: at.file, line: at.line + (block ? 1 : 0) + line, column: !block && line == 0 ? at.column : 1)
    }

    /// Splits `bytes` at its placeholders. A placeholder without `))` on its line, or whose name
    /// is not a valid name, is a problem and stays text.
    static func split(_ bytes: [UInt8]) -> (pieces: [Piece], problems: [Problem]) {
        var pieces: [Piece] = []
        var problems: [Problem] = []
        var text: [UInt8] = []
        var line = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "("), bytes[i...].starts(with: open) {
                let nameStart = i + open.count
                var j = nameStart
                while j < bytes.count, bytes[j] != UInt8(ascii: ")"), bytes[j] != UInt8(ascii: "\n") { j += 1 }
                if j + 1 < bytes.count, bytes[j...].starts(with: close) {
                    let name = String(decoding: bytes[nameStart..<j], as: UTF8.self)
                    if let problem = Formats.nameProblem(name) {
                        problems.append(Problem(line: line, message: "((secret:\(name.prefix(60)))) does not name a secret: \(problem)"))
                    } else {
                        if !text.isEmpty { pieces.append(.text(text)); text = [] }
                        pieces.append(.secret(name, line: line))
                        i = j + close.count
                        continue
                    }
                } else {
                    problems.append(Problem(line: line, message: "'((secret:' is not closed by '))' on the same line"))
                }
            }
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            text.append(bytes[i])
            i += 1
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        return (pieces, problems)
    }
}

/// `((secret-uuid:NAME:TYPE))` placeholders in escape-hatch XML: the UUID of a libvirt secret
/// object virtsync keeps for the VM (usage TYPE: vtpm, ceph, iscsi, tls) with the secret's value.
/// A value itself never goes into XML: libvirt would show it to every reader.
enum SecretObjectTemplate {
    static let open = "((secret-uuid:"

    struct Placeholder: Equatable {
        var name: String
        var type: String
        /// Line in the fragment, from 0.
        var line: Int
    }

    /// The placeholders of `text`, and the problems (malformed ones, values asked for).
    static func scan(_ text: String) -> (placeholders: [Placeholder], problems: [SecretTemplate.Problem]) {
        var placeholders: [Placeholder] = []
        var problems: [SecretTemplate.Problem] = []
        for (line, content) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(content)
            if rest.contains("((secret:") {
                problems.append(.init(line: line, message: "a secret's value never goes into XML (libvirt shows the XML to every reader); name a secret object's UUID with ((secret-uuid:NAME:TYPE)), TYPE one of \(SecretUsage.namedTypes.joined(separator: ", "))"))
            }
            while let start = rest.range(of: open) {
                rest = rest[start.upperBound...]
                guard let end = rest.range(of: "))") else {
                    problems.append(.init(line: line, message: "'\(open)' is not closed by '))' on the same line"))
                    break
                }
                let inner = rest[..<end.lowerBound].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                rest = rest[end.upperBound...]
                guard inner.count == 2, Formats.nameProblem(inner[0]) == nil else {
                    problems.append(.init(line: line, message: "\(open)\(inner.joined(separator: ":")))) must be \(open)NAME:TYPE)) with a secret's name"))
                    continue
                }
                guard SecretUsage.namedTypes.contains(inner[1]) else {
                    problems.append(.init(line: line, message: "unknown secret object type '\(inner[1].prefix(40))'; expected one of \(SecretUsage.namedTypes.joined(separator: ", "))"))
                    continue
                }
                placeholders.append(Placeholder(name: inner[0], type: inner[1], line: line))
            }
        }
        return (placeholders, problems)
    }

    /// `text` with every placeholder replaced by its object's UUID.
    static func substitute(_ text: String, domain: String) -> String {
        var out = text
        for placeholder in scan(text).placeholders {
            let consumer = SecretObjectModel.consumer(domain: domain, secret: placeholder.name, type: placeholder.type)
            out = out.replacingOccurrences(of: "\(open)\(placeholder.name):\(placeholder.type)))", with: SecretObjectModel.uuid(consumer: consumer))
        }
        return out
    }
}
