/// Why an XML document could not be parsed (or, for libvirt's documents, read into the model).
public struct XMLParseError: Error, Sendable, CustomStringConvertible {
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

/// A small non-validating XML parser for libvirt's documents.
///
/// Hand-written instead of FoundationXML because observing a host parses one document per
/// domain (5,000 in the benchmark) and this is several times faster. It handles elements,
/// attributes in either quote style, the predefined and numeric entities, comments, CDATA,
/// processing instructions and a DOCTYPE without an internal subset. Whitespace-only text between
/// elements is dropped; other text is kept as written (after entity decoding). A `&` that does
/// not start a known entity is kept literally, because libvirt 9.0 writes a few values (a DHCP
/// host's name) without escaping them.
package enum XMLParser {
    /// Parses a whole document and returns its root element.
    package static func parse(_ text: String) throws(XMLParseError) -> XElement {
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
    package static func parseFragment(_ text: String) throws(XMLParseError) -> [XElement] {
        try parse("<fragment>\(text)</fragment>").elements
    }

    /// Parses a fragment strictly, as a spec's escape hatch must be before it may reach libvirt,
    /// and returns its top-level nodes (elements and text, whitespace-only text dropped).
    ///
    /// Well-formed XML 1.0 content and nothing else: no DOCTYPE, ENTITY or other declarations,
    /// no processing instructions, no entities but the five predefined ones and character
    /// references to XML characters, no bare `&` or `<` in text or attribute values, no control
    /// characters, element and attribute names that are XML names, no attribute twice, every
    /// element closed, and no closing tag for an element the fragment did not open (so a
    /// fragment cannot close its parent and carry on beside it). Comments and CDATA are fine.
    /// Error offsets are bytes into `text`.
    package static func parseStrictFragment(_ text: String) throws(XMLParseError) -> [XNode] {
        var copy = text
        let result: Result<[XNode], XMLParseError> = copy.withUTF8 { buffer in
            var cursor = Cursor(bytes: buffer, strict: true)
            var wrapper = XElement("fragment")
            do throws(XMLParseError) {
                try cursor.content(of: &wrapper, topLevel: true)
                return .success(wrapper.children)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
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

    /// `parseStrictFragment`'s rules (the escape hatch); libvirt's own documents are read leniently.
    let strict: Bool

    init(bytes: UnsafeBufferPointer<UInt8>, strict: Bool = false) {
        self.bytes = bytes
        self.strict = strict
    }

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
        if strict {
            // XML names: a letter, '_' or ':' (or any non-ASCII character) first, then also
            // digits, '-' and '.'. ASCII punctuation such as '!' or '&' is never part of one.
            for i in start..<index {
                let b = bytes[i]
                let letter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x3A || b >= 0x80
                let other = (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E
                guard letter || (i > start && other) else {
                    index = i
                    throw fail("'\(string(start, start + min(index - start + 1, 40)))' is not an XML name")
                }
            }
        }
        return string(start, index)
    }

    /// In strict mode, refuses control characters (XML 1.0 allows tab, LF and CR only).
    private func checkCharacters(_ start: Int, _ end: Int) throws(XMLParseError) {
        guard strict else { return }
        for i in start..<end where bytes[i] < 0x20 && bytes[i] != 0x09 && bytes[i] != 0x0A && bytes[i] != 0x0D {
            throw XMLParseError(offset: i, message: "control character U+\(hex4(UInt32(bytes[i]))) is not allowed in XML")
        }
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
            if strict {
                if let lt = (start..<index).first(where: { bytes[$0] == 0x3C }) {
                    throw XMLParseError(offset: lt, message: "'<' in the value of attribute \(attributeName) must be written &lt;")
                }
                if element.attributes.contains(where: { $0.name == attributeName }) {
                    throw XMLParseError(offset: start, message: "attribute \(attributeName) given twice on <\(element.name)>")
                }
                try checkCharacters(start, index)
            }
            let value = try decode(start, index)
            index += 1
            element.attributes.append((name: attributeName, value: value))
        }
        try content(of: &element, topLevel: false)
        return element
    }

    /// Reads `element`'s content up to and including its closing tag; for the top level of a
    /// fragment (no enclosing tag), up to the end of the input.
    mutating func content(of element: inout XElement, topLevel: Bool) throws(XMLParseError) {
        while true {
            guard !atEnd else {
                if topLevel { return }
                throw fail("element <\(element.name)> is not closed")
            }
            if bytes[index] == 0x3C {
                if peek(1) == 0x2F {
                    let tagStart = index
                    index += 2
                    let closing = try name()
                    if topLevel {
                        throw XMLParseError(offset: tagStart, message: "</\(closing)> closes an element this fragment did not open")
                    }
                    guard closing == element.name else {
                        throw fail("</\(closing)> does not close <\(element.name)>")
                    }
                    skipSpace()
                    guard peek() == 0x3E else { throw fail("expected '>'") }
                    index += 1
                    return
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    try checkCharacters(start, index - 3)
                    element.children.append(.text(string(start, index - 3)))
                } else if strict && peek(1) == 0x21 {
                    throw fail("declarations (<!DOCTYPE>, <!ENTITY>, <!ELEMENT>) are not allowed")
                } else if peek(1) == 0x3F {
                    if strict { throw fail("processing instructions (<?...?>) are not allowed") }
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
                try checkCharacters(start, index)
                if !onlySpace {
                    element.children.append(.text(try decode(start, index)))
                }
            }
        }
    }

    /// The text between `start` and `end` with entities replaced.
    private func decode(_ start: Int, _ end: Int) throws(XMLParseError) -> String {
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
                if strict { throw XMLParseError(offset: i, message: "a bare '&' must be written &amp;") }
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
                if strict {
                    guard let value = scalarValue else {
                        throw XMLParseError(offset: i, message: "entity &\(entity); is not defined (only &amp; &lt; &gt; &quot; &apos; and character references are)")
                    }
                    let isXMLChar = value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
                        || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
                    guard isXMLChar else {
                        throw XMLParseError(offset: i, message: "&\(entity); does not refer to a character XML allows")
                    }
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

/// `n` as four or more uppercase hexadecimal digits.
private func hex4(_ n: UInt32) -> String {
    let digits = String(n, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
