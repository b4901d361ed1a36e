import Foundation

/// Counters, gauges and histograms, rendered in the Prometheus text exposition format 0.0.4
/// for `/metrics`. Safe to update from any thread or task.
///
/// Every metric family is described once (`describe`) before it is updated; updating or clearing
/// a name never described, or using a family against its kind, is a programmer error and stops
/// the process with a message (a typo in a metric name must not silently start a new series).
/// Names and label names must match Prometheus' grammar, also checked as a precondition.
///
/// The rendering is deterministic: families sorted by name, series by their label sets (labels
/// sorted by name), histogram buckets in ascending order ending with `+Inf`. A described family
/// with no series still shows its `# HELP` and `# TYPE`; a counter with no series also shows an
/// unlabelled `0`, so a rate over it starts from the agent's start rather than its first event.
public final class MetricsRegistry: @unchecked Sendable {
    // `@unchecked Sendable` is sound: all mutable state is in `families`, which is private and
    // read or written only while holding `lock`, including the `Family` objects inside it.

    /// What a metric family measures.
    public enum Kind: Sendable, Equatable {
        /// A value that only goes up (events, seconds spent); reset only by a restart.
        case counter
        /// A value that goes up and down (resources present, 0/1 states, timestamps).
        case gauge
        /// Observations counted into buckets by upper bound (inclusive), plus their sum and count.
        /// `+Inf` is added by the registry; non-finite, repeated and unsorted bounds are tidied.
        case histogram(buckets: [Double])

        var typeName: String {
            switch self {
            case .counter: "counter"
            case .gauge: "gauge"
            case .histogram: "histogram"
            }
        }
    }

    private final class Family {
        let kind: Kind
        var help: String
        /// Finite bucket upper bounds, ascending (histograms only).
        let bounds: [Double]
        var series: [LabelSet: Series] = [:]

        init(kind: Kind, help: String) {
            self.kind = kind
            self.help = help
            if case .histogram(let buckets) = kind {
                bounds = Array(Set(buckets.filter(\.isFinite))).sorted()
            } else {
                bounds = []
            }
        }
    }

    private struct Series {
        /// A counter's or gauge's value.
        var value: Double = 0
        /// Observations per finite bucket, not cumulative (histograms only).
        var bucketCounts: [UInt64] = []
        var sum: Double = 0
        var count: UInt64 = 0
    }

    /// A series' labels, sorted by name: the key of a series and the order it renders in.
    private struct LabelSet: Hashable, Comparable {
        let pairs: [Pair]

        struct Pair: Hashable {
            let name: String
            let value: String
        }

        init(_ labels: [String: String]) {
            for name in labels.keys {
                precondition(MetricsRegistry.isValidLabelName(name), "invalid Prometheus label name '\(name)'")
            }
            pairs = labels.sorted { $0.key < $1.key }.map { Pair(name: $0.key, value: $0.value) }
        }

        static func < (lhs: LabelSet, rhs: LabelSet) -> Bool {
            for (l, r) in zip(lhs.pairs, rhs.pairs) where l != r {
                return l.name != r.name ? l.name < r.name : l.value < r.value
            }
            return lhs.pairs.count < rhs.pairs.count
        }
    }

    private let lock = NSLock()
    private var families: [String: Family] = [:]

    /// An empty registry.
    public init() {}

    /// Declares the family `name` with its kind and help text. Describing it again with the same
    /// kind replaces the help; with another kind it is a programmer error.
    public func describe(_ name: String, _ kind: Kind, help: String) {
        precondition(Self.isValidMetricName(name), "invalid Prometheus metric name '\(name)'")
        if case .histogram(let buckets) = kind {
            precondition(!buckets.contains(where: \.isNaN), "histogram \(name) has a NaN bucket bound")
        }
        withLock {
            if let family = families[name] {
                precondition(family.kind == kind, "metric \(name) described again as a \(kind.typeName), was a \(family.kind.typeName)")
                family.help = help
            } else {
                families[name] = Family(kind: kind, help: help)
            }
        }
    }

    /// Adds `amount` to a counter (which only goes up: a negative amount is a programmer error)
    /// or a gauge (either way). A new series starts from 0.
    public func increment(_ name: String, labels: [String: String] = [:], by amount: Double = 1) {
        let key = LabelSet(labels)
        withLock {
            let family = self.family(name)
            switch family.kind {
            case .counter:
                precondition(amount >= 0, "counter \(name) incremented by \(amount); counters only go up")
            case .gauge:
                break
            case .histogram:
                preconditionFailure("histogram \(name) takes observe(), not increment()")
            }
            family.series[key, default: Series()].value += amount
        }
    }

    /// Sets a gauge (or a counter mirrored from a count kept elsewhere) to `value`.
    public func set(_ name: String, labels: [String: String] = [:], _ value: Double) {
        let key = LabelSet(labels)
        withLock {
            let family = self.family(name)
            if case .histogram = family.kind { preconditionFailure("histogram \(name) takes observe(), not set()") }
            family.series[key, default: Series()].value = value
        }
    }

    /// Records one observation in a histogram: it counts in every bucket whose bound is at least
    /// `value` (and always in `+Inf`), and adds to the sum.
    public func observe(_ name: String, labels: [String: String] = [:], _ value: Double) {
        precondition(labels["le"] == nil, "histogram \(name) cannot have a label named 'le'")
        let key = LabelSet(labels)
        withLock {
            let family = self.family(name)
            guard case .histogram = family.kind else {
                preconditionFailure("\(family.kind.typeName) \(name) takes increment() or set(), not observe()")
            }
            var series = family.series[key] ?? Series(bucketCounts: Array(repeating: 0, count: family.bounds.count))
            // NaN fits no finite bucket: it counts only in +Inf (and turns the sum into NaN).
            if let bucket = family.bounds.firstIndex(where: { value <= $0 }) { series.bucketCounts[bucket] += 1 }
            series.sum += value
            series.count += 1
            family.series[key] = series
        }
    }

    /// Drops every series of the family `name`, for gauges recomputed from scratch on each pass.
    public func clear(_ name: String) {
        withLock { family(name).series.removeAll() }
    }

    /// The current value of one series, for tests and status pages: a counter's or gauge's value
    /// (an unlabelled counter with no series is 0), a histogram's observation count, and with the
    /// suffix `_sum` or `_count` on a histogram's name, its sum or count. Nil when there is no
    /// such family or series.
    public func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        let key = LabelSet(labels)
        return withLock {
            if let family = families[name] {
                if let series = family.series[key] {
                    if case .histogram = family.kind { return Double(series.count) }
                    return series.value
                }
                return family.kind == .counter && family.series.isEmpty && labels.isEmpty ? 0 : nil
            }
            for suffix in ["_sum", "_count"] where name.hasSuffix(suffix) {
                guard let family = families[String(name.dropLast(suffix.count))], case .histogram = family.kind,
                      let series = family.series[key] else { continue }
                return suffix == "_sum" ? series.sum : Double(series.count)
            }
            return nil
        }
    }

    /// Every family in the Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), each line
    /// ending in a newline; an empty string for an empty registry.
    public func render() -> String {
        withLock {
            var out = ""
            for name in families.keys.sorted() {
                guard let family = families[name] else { continue }
                out += "# HELP \(name) \(Self.escapeHelp(family.help))\n"
                out += "# TYPE \(name) \(family.kind.typeName)\n"
                let series = family.series.sorted { $0.key < $1.key }
                switch family.kind {
                case .counter, .gauge:
                    if series.isEmpty && family.kind == .counter { out += "\(name) 0\n" }
                    for (labels, entry) in series {
                        out += "\(name)\(Self.render(labels.pairs)) \(Self.format(entry.value))\n"
                    }
                case .histogram:
                    for (labels, entry) in series {
                        var cumulative: UInt64 = 0
                        for (bound, count) in zip(family.bounds, entry.bucketCounts) {
                            cumulative += count
                            let le = labels.pairs + [LabelSet.Pair(name: "le", value: Self.format(bound))]
                            out += "\(name)_bucket\(Self.render(le)) \(cumulative)\n"
                        }
                        let inf = labels.pairs + [LabelSet.Pair(name: "le", value: "+Inf")]
                        out += "\(name)_bucket\(Self.render(inf)) \(entry.count)\n"
                        out += "\(name)_sum\(Self.render(labels.pairs)) \(Self.format(entry.sum))\n"
                        out += "\(name)_count\(Self.render(labels.pairs)) \(entry.count)\n"
                    }
                }
            }
            return out
        }
    }

    // MARK: - Helpers

    private func withLock<Result>(_ body: () -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The family `name`; called with the lock held.
    private func family(_ name: String) -> Family {
        guard let family = families[name] else {
            preconditionFailure("metric \(name) used before MetricsRegistry.describe")
        }
        return family
    }

    private static func render(_ pairs: [LabelSet.Pair]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
    }

    /// A number as Prometheus writes it: integers without a fraction, `+Inf`, `-Inf`, `NaN`,
    /// otherwise the shortest text that reads back as the same double (`0.25`, `1e-05`).
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeLabelValue(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: ":") else {
            return false
        }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == UInt8(ascii: "_"), !name.hasPrefix("__") else {
            return false
        }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
