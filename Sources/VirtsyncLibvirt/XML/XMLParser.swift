/// Why a libvirt XML document could not be parsed into the model.
public struct LibvirtXMLError: Error, Sendable, CustomStringConvertible {
    /// Byte offset in the document (0 when the document is well-formed but lacks something).
    public var offset: Int
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(offset: Int = 0, message: String) {
        self.offset = offset
        self.message = message
    }

    /// The message, with the byte offset when there is one.
    public var description: String { offset > 0 ? "XML error at byte \(offset): \(message)" : message }
}

typealias XMLParseError = LibvirtXMLError

/// A small non-validating XML parser for libvirt's documents.
///
/// Hand-written instead of FoundationXML because observing a host parses one document per
/// domain (5,000 in the benchmark) and this is several times faster. It handles elements,
/// attributes in either quote style, the predefined and numeric entities, comments, CDATA,
/// processing instructions and a DOCTYPE without an internal subset. Whitespace-only text between
/// elements is dropped; other text is kept as written (after entity decoding). A `&` that does
/// not start a known entity is kept literally, because libvirt 9.0 writes a few values (a DHCP
/// host's name) without escaping them.
enum XMLParser {
    /// Parses a whole document and returns its root element.
    static func parse(_ text: String) throws(XMLParseError) -> XElement {
        var copy = text
        let result: Result<XElement, XMLParseError> = copy.withUTF8 { buffer in
            var cursor = Cursor(bytes: buffer)
            do throws(XMLParseError) {
                return .success(try cursor.document())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses a fragment (zero or more elements with text between them) into its top-level
    /// elements, for the user's extra XML.
    static func parseFragment(_ text: String) throws(XMLParseError) -> [XElement] {
        try parse("<fragment>\(text)</fragment>").elements
    }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Elements being read, the innermost included.
    var depth = 0

    /// The deepest nesting accepted: `element()` recurses once per level, and 10,000 levels (30 KB
    /// of `<a>`) overflowed the 8 MB stack in the fuzz build (Fuzz/XML). 256 is libxml2's default
    /// limit (`xmlParserMaxDepth`); libvirt's documents are a few levels deep.
    static let maxDepth = 256

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func fail(_ message: String) -> XMLParseError { XMLParseError(offset: index, message: message) }

    private var atEnd: Bool { index >= bytes.count }

    private func peek(_ offset: Int = 0) -> UInt8 {
        index + offset < bytes.count ? bytes[index + offset] : 0
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<count where bytes[index + i] != p[i] { return false }
        return true
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func isNameByte(_ b: UInt8) -> Bool {
        !(isSpace(b) || b == 0x2F || b == 0x3E || b == 0x3D || b == 0x3C || b == 0x22 || b == 0x27 || b == 0)
    }

    private mutating func skipSpace() {
        while index < bytes.count, Cursor.isSpace(bytes[index]) { index += 1 }
    }

    /// Advances past the next occurrence of `terminator`.
    private mutating func skip(past terminator: StaticString) throws(XMLParseError) {
        while !atEnd {
            if starts(with: terminator) {
                index += terminator.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw fail("unterminated construct, expected \(terminator)")
    }

    private func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// Skips the prolog and epilog pieces: whitespace, comments, PIs, DOCTYPE.
    private mutating func skipMisc() throws(XMLParseError) {
        while true {
            skipSpace()
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<!DOCTYPE") {
                try skip(past: ">")
            } else {
                return
            }
        }
    }

    mutating func document() throws(XMLParseError) -> XElement {
        try skipMisc()
        guard peek() == 0x3C else { throw fail("expected the root element") }
        let root = try element()
        try skipMisc()
        guard atEnd else { throw fail("content after the root element") }
        return root
    }

    private mutating func name() throws(XMLParseError) -> String {
        let start = index
        while index < bytes.count, Cursor.isNameByte(bytes[index]) { index += 1 }
        guard index > start else { throw fail("expected a name") }
        return string(start, index)
    }

    private mutating func element() throws(XMLParseError) -> XElement {
        guard depth < Cursor.maxDepth else { throw fail("elements nested deeper than \(Cursor.maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        index += 1  // '<'
        var element = XElement(try name())
        // Attributes.
        while true {
            skipSpace()
            let b = peek()
            if b == 0x2F {  // '/>'
                guard peek(1) == 0x3E else { throw fail("expected '>' after '/'") }
                index += 2
                return element
            }
            if b == 0x3E {
                index += 1
                break
            }
            if atEnd { throw fail("unterminated start tag <\(element.name)>") }
            let attributeName = try name()
            skipSpace()
            guard peek() == 0x3D else { throw fail("expected '=' after attribute \(attributeName)") }
            index += 1
            skipSpace()
            let quote = peek()
            guard quote == 0x22 || quote == 0x27 else { throw fail("expected a quoted value for \(attributeName)") }
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote { index += 1 }
            guard !atEnd else { throw fail("unterminated attribute value") }
            let value = decode(start, index)
            index += 1
            element.attributes.append((name: attributeName, value: value))
        }
        // Content.
        while true {
            guard !atEnd else { throw fail("element <\(element.name)> is not closed") }
            if bytes[index] == 0x3C {
                if peek(1) == 0x2F {
                    index += 2
                    let closing = try name()
                    guard closing == element.name else {
                        throw fail("</\(closing)> does not close <\(element.name)>")
                    }
                    skipSpace()
                    guard peek() == 0x3E else { throw fail("expected '>'") }
                    index += 1
                    return element
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    element.children.append(.text(string(start, index - 3)))
                } else if peek(1) == 0x3F {
                    try skip(past: "?>")
                } else {
                    element.children.append(.element(try self.element()))
                }
            } else {
                let start = index
                var onlySpace = true
                while index < bytes.count, bytes[index] != 0x3C {
                    if onlySpace, !Cursor.isSpace(bytes[index]) { onlySpace = false }
                    index += 1
                }
                if !onlySpace {
                    element.children.append(.text(decode(start, index)))
                }
            }
        }
    }

    /// The text between `start` and `end` with entities replaced.
    private func decode(_ start: Int, _ end: Int) -> String {
        var hasEntity = false
        for i in start..<end where bytes[i] == 0x26 {
            hasEntity = true
            break
        }
        guard hasEntity else { return string(start, end) }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let b = bytes[i]
            guard b == 0x26 else {
                out.append(b)
                i += 1
                continue
            }
            var j = i + 1
            while j < end, j - i <= 10, bytes[j] != 0x3B { j += 1 }
            guard j < end, bytes[j] == 0x3B else {
                // A bare '&': libvirt 9.0 writes some values unescaped (a DHCP host's name).
                out.append(b)
                i += 1
                continue
            }
            let entity = string(i + 1, j)
            switch entity {
            case "amp": out.append(0x26)
            case "lt": out.append(0x3C)
            case "gt": out.append(0x3E)
            case "quot": out.append(0x22)
            case "apos": out.append(0x27)
            default:
                let scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalarValue = UInt32(entity.dropFirst())
                } else {
                    scalarValue = nil
                }
                guard let value = scalarValue, let scalar = Unicode.Scalar(value) else {
                    // Not an entity this parser knows: keep the text as written (see above).
                    out.append(b)
                    i += 1
                    continue
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = j + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
