/// A 128-bit IPv6 address, parsed from text and written in the canonical form of RFC 5952
/// (lower case, no leading zeros, the longest run of two or more zero groups as `::`), which is
/// also the form libvirt writes back: comparing canonical texts never shows a false difference.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The upper and lower 64 bits.
    public var high: UInt64
    public var low: UInt64

    /// Creates an address from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses `fd00::1`, `FD00:0:0:0:0:0:0:1`; no zone (`%eth0`), no embedded IPv4, no prefix.
    public init?(_ text: String) {
        guard !text.isEmpty, text.count <= 39 else { return nil }
        // Split at "::" without Foundation: the core stays free of it.
        var halves: [String] = []
        var rest = Substring(text)
        while let r = rest.firstRange(of: "::") {
            halves.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        halves.append(String(rest))
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit), let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) } + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    /// The address with every bit after the first `prefix` cleared (the network's address).
    public func masked(_ prefix: Int) -> IPv6Address {
        let p = max(0, min(128, prefix))
        let highMask: UInt64 = p >= 64 ? .max : (p == 0 ? 0 : .max << (64 - p))
        let lowMask: UInt64 = p <= 64 ? 0 : (p == 128 ? .max : .max << (128 - p))
        return IPv6Address(high: high & highMask, low: low & lowMask)
    }

    /// Whether the address lies in `network/prefix`.
    public func isIn(_ network: IPv6Address, prefix: Int) -> Bool { masked(prefix) == network.masked(prefix) }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// RFC 5952 text.
    public var description: String {
        let g = groups
        // The longest run of at least two zero groups, the first one on a tie.
        var best: (start: Int, length: Int) = (-1, 0)
        var i = 0
        while i < 8 {
            guard g[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && g[j] == 0 { j += 1 }
            if j - i > best.length { best = (i, j - i) }
            i = j
        }
        let hex = g.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// The canonical text of an address, or the text itself when it is not one.
    public static func canonical(_ text: String) -> String { IPv6Address(text)?.description ?? text }
}
