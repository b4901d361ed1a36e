/// A set of CPU numbers in libvirt's cpuset syntax (`0-3,^2,6`), kept in canonical form
/// (ascending ranges, `0-1,3`) so that the spec's spelling and libvirt's echo compare equal.
public struct CPUSet: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Highest CPU number accepted (libvirt's own limit is far lower on most hosts).
    public static let maxCPU = 4095

    /// The CPU numbers, ascending, without repeats.
    public let cpus: [Int]

    /// A set of the given CPU numbers.
    public init(_ cpus: some Sequence<Int>) {
        self.cpus = Array(Set(cpus)).sorted()
    }

    /// Parses libvirt's syntax: comma-separated numbers and ranges `a-b`, `^n` excluding a
    /// number. `nil` when malformed, empty after exclusions, or a number is above `maxCPU`.
    public init?(parsing text: String) {
        var included = Set<Int>()
        var excluded = Set<Int>()
        for rawPart in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = rawPart.trimmingSpaces
            if part.hasPrefix("^") {
                guard let n = CPUSet.number(part.dropFirst()) else { return nil }
                excluded.insert(n)
            } else if let dash = part.firstIndex(of: "-") {
                guard let low = CPUSet.number(part[..<dash]), let high = CPUSet.number(part[part.index(after: dash)...]),
                      low <= high else { return nil }
                included.formUnion(low...high)
            } else {
                guard let n = CPUSet.number(part) else { return nil }
                included.insert(n)
            }
        }
        let result = included.subtracting(excluded)
        guard !result.isEmpty else { return nil }
        self.init(result)
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text), n <= maxCPU else { return nil }
        return n
    }

    /// Canonical text: ascending ranges, e.g. `0-1,3`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? String(cpus[index]) : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = CPUSet(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a cpuset: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
