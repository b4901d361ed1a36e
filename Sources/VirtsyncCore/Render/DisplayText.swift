/// Text from specs, libvirt and hosts made safe to show: no control characters reach a terminal
/// or break a line, and Markdown code spans hold whatever they are given.
enum DisplayText {
    /// One line: newlines and tabs become spaces, other control characters (C0, DEL, C1) are
    /// shown as `\u{XX}`.
    static func line(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D, 0x09: out.append(" ")
            case 0x00..<0x20, 0x7F, 0x80..<0xA0: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A Markdown code span that shows `s` literally, whatever backticks it holds.
    static func codeSpan(_ s: String) -> String {
        let text = line(s)
        var longest = 0, run = 0
        for ch in text {
            if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 }
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text + pad + fence
    }

    /// Markdown running text: one line, with the characters that start markup escaped.
    static func markdown(_ s: String) -> String {
        var out = ""
        for ch in line(s) {
            switch ch {
            case "\\", "`", "*", "_", "[", "]", "|": out.append("\\"); out.append(ch)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(ch)
            }
        }
        return out
    }
}
