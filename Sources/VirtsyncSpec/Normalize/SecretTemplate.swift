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
