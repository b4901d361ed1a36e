/// Durations in specs and the agent's configuration: a number and a unit, e.g. `500ms`, `10s`,
/// `5m`, `1h30m`, `2d`. A bare number is refused: `60` could mean seconds or minutes.
public enum DurationFormat {
    private static let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]

    /// The duration in seconds, or a message saying what is wrong.
    public static func parse(_ text: String) -> Result<Double, DurationError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return .failure(DurationError("a duration must not be empty; write e.g. 30s or 5m")) }
        var total = 0.0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let value = Double(digits) else {
                return .failure(DurationError("\(text.quotedForMessage) is not a duration; write e.g. 30s, 5m or 1h30m"))
            }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            guard !unitText.isEmpty else {
                return .failure(DurationError("\(text.quotedForMessage) has no unit; write e.g. \(digits)s or \(digits)m (units: ms, s, m, h, d)"))
            }
            guard let unit = units.first(where: { $0.0 == unitText }) else {
                return .failure(DurationError("\(text.quotedForMessage): unknown unit '\(unitText)' (units: ms, s, m, h, d)"))
            }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        return .success(total)
    }

    /// Writes seconds the way `parse` reads them back: `90s` → `1m30s`, `0.5` → `500ms`.
    public static func format(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        var rest = Int(seconds.rounded())
        var out = ""
        for (name, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(name)"
            rest %= size
        }
        return out
    }
}

/// Why a duration could not be read.
public struct DurationError: Error, Sendable, CustomStringConvertible {
    /// The message, naming the value and what is expected.
    public let description: String
    init(_ description: String) { self.description = description }
}

extension MapReader {
    /// A duration with a unit (`30s`, `5m`), in seconds, within `range` when given.
    package func duration(_ key: String, required: Bool = false, range: ClosedRange<Double>? = nil) -> Located<Double>? {
        guard let node = node(key) else { missing(key, required: required); return nil }
        guard case .scalar(let scalar) = node else {
            typeError(key, expected: "a duration with a unit (e.g. 30s)", got: node)
            return nil
        }
        let location = node.location(in: file)
        switch DurationFormat.parse(scalar.string) {
        case .failure(let error):
            reporter.error(location, keyPath(key), error.description)
            return nil
        case .success(let seconds):
            if let range, !range.contains(seconds) {
                reporter.error(location, keyPath(key),
                               "\(scalar.string) is out of range; expected \(DurationFormat.format(range.lowerBound)) to \(DurationFormat.format(range.upperBound))")
                return nil
            }
            return Located(seconds, location)
        }
    }
}
