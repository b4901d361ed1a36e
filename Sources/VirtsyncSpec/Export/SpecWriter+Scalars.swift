import VirtsyncCore

/// YAML scalars and sizes as the loader reads them back exactly.
extension SpecWriter {
    // MARK: - Scalars

    /// A size in the loader's units, exact: the binary unit when it is whole MiB or more
    /// (`64MiB`, `2GiB`), else a decimal unit when one is exact (`100GB`), else KiB or bytes.
    static func sizeText(_ size: ByteSize) -> String {
        let binary = size.description
        guard binary.hasSuffix("KiB") || (binary.hasSuffix("B") && !binary.hasSuffix("iB")), size.bytes > 0 else { return binary }
        for (suffix, factor) in [("TB", UInt64(1_000_000_000_000)), ("GB", 1_000_000_000), ("MB", 1_000_000)]
        where size.bytes % factor == 0 {
            return "\(size.bytes / factor)\(suffix)"
        }
        return binary
    }

    /// `key: value` lines for a text: a literal block scalar when the text can be one exactly
    /// (`|`, `|-` or `|+` after its trailing line breaks, an indentation indicator when its first
    /// line starts with a blank), else a double-quoted scalar with escapes. The key is indented
    /// by `indent` spaces, the block's content by two more.
    static func text(_ key: String, _ value: String, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        guard let block = blockScalar(value, indent: indent + 2) else { return ["\(pad)\(key): \(quoted(value))"] }
        return ["\(pad)\(key): \(block.indicator)"] + block.lines
    }

    /// The header indicator and content lines of `value` as a literal block scalar whose
    /// content is indented by `indent` spaces, two more than the mapping holding its key (the
    /// indentation indicator, when one is needed, is `2`); nil when a block scalar cannot hold
    /// it exactly.
    static func blockScalar(_ value: String, indent: Int) -> (indicator: String, lines: [String])? {
        // Line breaks other than \n would be read as \n; other characters are not allowed.
        for scalar in value.unicodeScalars where scalar != "\n" && scalar != "\t" {
            if scalar == "\r" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{FEFF}"
                || !isPrintable(scalar) {
                return nil
            }
        }
        var body = Substring(value)
        var trailing = 0
        while body.hasSuffix("\n") {
            body = body.dropLast()
            trailing += 1
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let firstContent = lines.first(where: { !$0.isEmpty }),
              lines.contains(where: { $0.contains { $0 != " " && $0 != "\t" } }) else { return nil }
        let chomping = trailing == 0 ? "-" : trailing == 1 ? "" : "+"
        // Without an indicator the indentation is taken from the first line that is not empty:
        // a leading space or tab (or a line of blanks before the content) would be taken for it.
        let needsIndicator = firstContent.hasPrefix(" ") || firstContent.hasPrefix("\t")
        let indicator = "|" + (needsIndicator ? "2" : "") + chomping
        let pad = String(repeating: " ", count: indent)
        var out = lines.map { $0.isEmpty ? "" : pad + $0 }
        if trailing > 1 { out += Array(repeating: "", count: trailing - 1) }
        return (indicator, out)
    }

    /// A string as a YAML scalar that every YAML reader takes for this same string: plain when
    /// that is safe (`web-1`, `/var/lib/x`, `10.0.0.1/24`, `q35`), else double-quoted.
    static func scalar(_ value: String) -> String {
        isSafePlain(value) ? value : quoted(value)
    }

    /// Plain scalars are limited to letters, digits and `_ . / @ + -`, starting with a letter, a
    /// digit, `_` or `/`, and never a word or number that YAML 1.1 or 1.2 types otherwise.
    static func isSafePlain(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        let isLetter: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
        let isDigit: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
        let allowed: (Unicode.Scalar) -> Bool = { c in
            isLetter(c) || isDigit(c) || c == "_" || c == "." || c == "/" || c == "@" || c == "+" || c == "-"
        }
        guard value.unicodeScalars.allSatisfy(allowed) else { return false }
        guard isLetter(first) || isDigit(first) || first == "_" || first == "/" else { return false }
        let reserved: Set<String> = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        if reserved.contains(value.lowercased()) { return false }
        if isDigit(first) || first == "_" {
            // Numbers (`1e3`, `0x1F`, `1_000`, `010`) and dates (`2024-01-05`) start with a
            // digit: plain only with a letter no number or date has, or as an IPv4 address.
            if isIPv4(value) { return true }
            let numberish = Set("abcdefABCDEFxXoO".unicodeScalars)
            return value.unicodeScalars.contains { isLetter($0) && !numberish.contains($0) }
        }
        return true
    }

    /// `a.b.c.d` or `a.b.c.d/p`, with decimal parts.
    static func isIPv4(_ value: String) -> Bool {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// A double-quoted scalar: `\`, `"`, line breaks and characters YAML does not allow (or
    /// folds) are escaped; other characters, non-ASCII included, are written as they are.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            case "\u{85}": out += "\\N"
            case "\u{A0}": out += "\\_"
            case "\u{2028}": out += "\\L"
            case "\u{2029}": out += "\\P"
            default:
                if isPrintable(scalar) && scalar != "\u{FEFF}" {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + hex(scalar.value, digits: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + hex(scalar.value, digits: 4)
                } else {
                    out += "\\U" + hex(scalar.value, digits: 8)
                }
            }
        }
        return out + "\""
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// YAML's printable characters (tab and line breaks aside): `#x20-#x7E`, `#x85`,
    /// `#xA0-#xD7FF`, `#xE000-#xFFFD`, `#x10000-#x10FFFF`.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
