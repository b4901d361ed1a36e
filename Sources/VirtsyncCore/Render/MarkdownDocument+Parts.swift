extension MarkdownDocument {
    /// One section's items laid out in one part.
    private struct Chunk {
        var section: Int
        var continued: Bool
        var items: [String]
    }

    /// The plan over numbered parts of at most `limit` UTF-8 bytes (see
    /// `MarkdownRenderer.renderParts`). Items go into parts in order, a new part starting when
    /// the next item does not fit; only an item larger than a whole part is cut short.
    func split(limit: Int) -> [String] {
        // The number of parts is known only once they are laid out: lay out with room for the
        // widest numbers, then write the real ones, which take no more room.
        let widest = 999_999
        let frame = heading(part: widest, of: widest).utf8.count + commitsLine.utf8.count + marker(part: widest, of: widest).utf8.count
        // A summary too long for part 1 gets shorter callouts first, and is cut short only when
        // even the shortest does not fit.
        var preamble = provenance + summary
        for calloutLimit in [10, 5, 2, 0] where frame + preamble.utf8.count > limit {
            preamble = provenance + summary(calloutLimit: calloutLimit)
        }
        if frame + preamble.utf8.count > limit {
            // A blank line first: the cut may fall in a table or a quote, which it must close.
            preamble = MarkdownDocument.truncate(preamble, toBytes: limit - frame, marker: "\n… (summary truncated)\n")
        }

        var parts: [[Chunk]] = [[]]
        var room = limit - frame - preamble.utf8.count
        for (index, section) in sections.enumerated() {
            var started = false
            for original in section.items {
                var item = original
                let overhead = section.opening(continued: started).utf8.count + section.closing.utf8.count
                let open = parts[parts.count - 1].last?.section == index
                if item.utf8.count + (open ? 0 : overhead) <= room {
                    if open {
                        parts[parts.count - 1][parts[parts.count - 1].count - 1].items.append(item)
                    } else {
                        parts[parts.count - 1].append(Chunk(section: index, continued: started, items: [item]))
                    }
                    room -= item.utf8.count + (open ? 0 : overhead)
                } else {
                    // Part 1 always holds the summary; a later part that is still empty takes the
                    // item, cut short, rather than leave a part empty.
                    if parts.count == 1 || !parts[parts.count - 1].isEmpty {
                        parts.append([])
                        room = limit - frame
                    }
                    let fresh = section.opening(continued: started).utf8.count + section.closing.utf8.count
                    if item.utf8.count + fresh > room {
                        item = MarkdownDocument.truncate(item, toBytes: room - fresh,
                                                         marker: "\(section.truncationIndent)… (truncated: the rest is not shown)\n")
                    }
                    parts[parts.count - 1].append(Chunk(section: index, continued: started, items: [item]))
                    room -= item.utf8.count + fresh
                }
                started = true
            }
        }

        let count = parts.count
        return parts.enumerated().map { offset, chunks in
            var out = heading(part: offset + 1, of: count) + commitsLine + (offset == 0 ? preamble : "")
            for chunk in chunks {
                let section = sections[chunk.section]
                out += section.opening(continued: chunk.continued) + chunk.items.joined() + section.closing
            }
            return out + marker(part: offset + 1, of: count)
        }
    }

    /// `text` in at most `maxBytes` UTF-8 bytes: its whole lines while they fit with `marker`
    /// after them; when not even the first line fits, that line cut short and marked
    /// ` … (truncated)`.
    static func truncate(_ text: String, toBytes maxBytes: Int, marker: String) -> String {
        var out = ""
        var used = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let size = line.utf8.count + 1
            guard used + size + marker.utf8.count <= maxBytes else { break }
            out += line + "\n"
            used += size
        }
        if !out.isEmpty { return out + marker }
        let tail = " … (truncated)\n"
        let first = text.prefix { $0 != "\n" }
        return cut(String(first), toBytes: max(0, maxBytes - tail.utf8.count)) + tail
    }

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a whole
    /// character; `text` itself when it fits.
    static func cut(_ text: String, toBytes maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var out = ""
        var used = 0
        for ch in text {
            let size = ch.utf8.count
            guard used + size <= maxBytes else { break }
            out.append(ch)
            used += size
        }
        return out
    }
}
