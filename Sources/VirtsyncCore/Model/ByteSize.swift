/// A size in bytes, written by users with a unit suffix.
///
/// One meaning per suffix, the same as libvirt's own units: `K`, `KiB`, `M`, `MiB`, `G`, `GiB`,
/// `T`, `TiB` are powers of 1024; `KB`, `MB`, `GB`, `TB` are powers of 1000; `B` is bytes.
/// A bare number is refused by the parser: it is too easy to mean MiB and get bytes.
public struct ByteSize: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The size in bytes.
    public var bytes: UInt64

    /// Wraps a byte count.
    public init(bytes: UInt64) { self.bytes = bytes }

    /// `n` mebibytes.
    public static func mib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n * 1024 * 1024) }
    /// `n` gibibytes.
    public static func gib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n * 1024 * 1024 * 1024) }
    /// `n` kibibytes.
    public static func kib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n * 1024) }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }

    /// The unit suffixes accepted by `parse`, with their multipliers.
    public static let units: [(suffix: String, factor: UInt64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40),
        ("B", 1),
    ]

    /// Why a size string was refused.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case missingUnit(String)
        case unknownUnit(String)
        case notANumber(String)
        case overflow(String)

        public var description: String {
            switch self {
            case .empty: return "empty size"
            case .missingUnit(let s):
                return "size '\(s)' has no unit; write it with one, e.g. '\(s)MiB' or '\(s)GiB'"
            case .unknownUnit(let s):
                return "size '\(s)' has an unknown unit (use B, KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB, TB)"
            case .notANumber(let s): return "size '\(s)' is not a number with a unit"
            case .overflow(let s): return "size '\(s)' is too large"
            }
        }
    }

    /// Parses `4GiB`, `512 MiB`, `20G`, `1.5GiB` (fractions are allowed when the result is a whole
    /// number of bytes after rounding down to KiB for binary units).
    public static func parse(_ text: String) throws(ParseError) -> ByteSize {
        let s = text.trimmingWhitespace()
        guard !s.isEmpty else { throw .empty }
        var numberPart = ""
        var unitPart = ""
        for ch in s {
            if unitPart.isEmpty, ch.isASCII, ch.isNumber || ch == "." {
                numberPart.append(ch)
            } else if ch == " " && unitPart.isEmpty {
                continue
            } else {
                unitPart.append(ch)
            }
        }
        guard !numberPart.isEmpty else { throw .notANumber(text) }
        guard !unitPart.isEmpty else { throw .missingUnit(text) }
        guard let factor = units.first(where: { $0.suffix == unitPart })?.factor else {
            throw .unknownUnit(text)
        }
        let parts = numberPart.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = UInt64(parts[0].isEmpty ? "0" : String(parts[0])) else {
            throw .notANumber(text)
        }
        let (product, overflow) = whole.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .overflow(text) }
        var total = product
        if parts.count == 2, !parts[1].isEmpty {
            let digits = String(parts[1].prefix(9))
            guard let frac = UInt64(digits) else { throw .notANumber(text) }
            var scale: UInt64 = 1
            for _ in 0..<digits.count { scale *= 10 }
            let (f, o) = frac.multipliedReportingOverflow(by: factor)
            guard !o else { throw .overflow(text) }
            total += f / scale
        }
        return ByteSize(bytes: total)
    }

    /// The shortest exact rendering with a binary unit (`4GiB`, `1536MiB`), else bytes.
    public var description: String {
        if bytes == 0 { return "0B" }
        for (suffix, factor) in [("TiB", UInt64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)B"
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isWS($0) }),
              let end = lastIndex(where: { !isWS($0) }) else { return "" }
        return String(self[start...end])
    }
}
