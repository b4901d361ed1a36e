/// A strict reader of the Prometheus text exposition format 0.0.4, so tests can scrape `/metrics`
/// (or `MetricsRegistry.render()`) and check values, and catch output Prometheus would choke on.
///
/// Stricter than Prometheus where that finds mistakes sooner: every line must end with a newline
/// and none may be empty; a sample needs a `# TYPE` line for its family before it; a family's
/// `# HELP`, `# TYPE` and samples must stand together, metadata first, each at most once; series
/// must not repeat; histogram buckets need an `le` label; whitespace only separates the value
/// (and an optional timestamp) from the rest. Other `#` lines are comments and are skipped.
public enum PrometheusText {
    /// One sample line: the sample's own name (`x_bucket`, not the family `x`), labels and value.
    public struct Sample: Hashable, Sendable {
        /// The sample's name as written.
        public var name: String
        /// The labels, unescaped.
        public var labels: [String: String]
        /// The value (`+Inf`, `-Inf` and `NaN` included).
        public var value: Double

        /// A sample with every part given.
        public init(name: String, labels: [String: String] = [:], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// Why a text was refused, with the 1-based line number.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        /// The line the problem is on (1-based).
        public let line: Int
        /// What is wrong.
        public let message: String

        /// "line <n>: <message>".
        public var description: String { "line \(line): \(message)" }
    }

    /// The samples of `text` in the order they appear; throws `ParseError` at the first problem.
    public static func parse(_ text: String) throws -> [Sample] {
        guard !text.isEmpty else { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else {
            throw ParseError(line: lines.count, message: "the last line does not end with a newline")
        }
        lines.removeLast()

        var types: [String: String] = [:]
        var helped: Set<String> = []
        var familiesWithSamples: Set<String> = []
        var finished: Set<String> = []
        var current: String?
        var seenSeries: Set<Sample> = []
        var samples: [Sample] = []

        // Moves to `family`, refusing to come back to one already left.
        func enter(_ family: String, line: Int) throws {
            guard family != current else { return }
            if finished.contains(family) {
                throw ParseError(line: line, message: "lines of \(family) are not all together")
            }
            if let current { finished.insert(current) }
            current = family
        }

        for (index, line) in lines.enumerated() {
            let number = index + 1
            func fail(_ message: String) -> ParseError { ParseError(line: number, message: message) }
            guard !line.isEmpty else { throw fail("empty line") }

            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let isHelp = line.hasPrefix("# HELP ")
                let rest = line.dropFirst(7)
                let name = rest.prefix { $0 != " " }
                let argument = rest.dropFirst(name.count).dropFirst()
                guard isMetricName(name) else { throw fail("invalid metric name '\(name)'") }
                let family = String(name)
                try enter(family, line: number)
                if familiesWithSamples.contains(family) { throw fail("\(isHelp ? "HELP" : "TYPE") for \(family) after its samples") }
                if isHelp {
                    guard helped.insert(family).inserted else { throw fail("second HELP for \(family)") }
                    _ = try unescape(argument, quotes: false, line: number)
                } else {
                    guard types[family] == nil else { throw fail("second TYPE for \(family)") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(argument) else {
                        throw fail("unknown type '\(argument)'")
                    }
                    types[family] = String(argument)
                }
                continue
            }
            if line.hasPrefix("#") { continue }

            let sample = try parseSample(line, line: number)
            let family = try self.family(of: sample, types: types, line: number)
            try enter(family, line: number)
            familiesWithSamples.insert(family)
            var identity = sample
            identity.value = 0
            guard seenSeries.insert(identity).inserted else { throw fail("series \(sample.name)\(sample.labels) repeated") }
            samples.append(sample)
        }
        return samples
    }

    /// The family `sample` belongs to, by its TYPE lines.
    private static func family(of sample: Sample, types: [String: String], line: Int) throws -> String {
        let name = sample.name
        if let type = types[name] {
            guard type != "histogram" else {
                throw ParseError(line: line, message: "histogram \(name) sample without _bucket, _sum or _count")
            }
            if sample.labels["le"] != nil && type != "untyped" {
                throw ParseError(line: line, message: "'le' label outside a histogram bucket")
            }
            return name
        }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            guard let type = types[base] else { continue }
            if type == "histogram" || (type == "summary" && suffix != "_bucket") {
                if suffix == "_bucket" {
                    guard let le = sample.labels["le"], parseValue(Substring(le)) != nil else {
                        throw ParseError(line: line, message: "histogram bucket \(name) without a numeric 'le' label")
                    }
                } else if sample.labels["le"] != nil {
                    throw ParseError(line: line, message: "'le' label on \(name)")
                }
                return base
            }
        }
        throw ParseError(line: line, message: "sample \(name) has no TYPE line for its family")
    }

    /// `name{labels} value [timestamp]`.
    private static func parseSample(_ line: Substring, line number: Int) throws -> Sample {
        func fail(_ message: String) -> ParseError { ParseError(line: number, message: message) }
        let name = line.prefix { $0 != "{" && $0 != " " && $0 != "\t" }
        guard isMetricName(name) else { throw fail("invalid metric name '\(name)'") }
        var rest = line.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let labelName = rest.prefix { $0 != "=" }
                guard isLabelName(labelName) else { throw fail("invalid label name '\(labelName)'") }
                rest = rest.dropFirst(labelName.count)
                guard rest.hasPrefix("=\"") else { throw fail("label \(labelName) without '=\"'") }
                rest = rest.dropFirst(2)
                // The value runs to the first quote not escaped by a backslash.
                var end = rest.startIndex
                var escaped = false
                while end < rest.endIndex && (escaped || rest[end] != "\"") {
                    escaped = !escaped && rest[end] == "\\"
                    end = rest.index(after: end)
                }
                guard end < rest.endIndex else { throw fail("unterminated value of label \(labelName)") }
                let value = try unescape(rest[rest.startIndex..<end], quotes: true, line: number)
                guard labels.updateValue(value, forKey: String(labelName)) == nil else {
                    throw fail("label \(labelName) repeated")
                }
                rest = rest[rest.index(after: end)...]
                if rest.first == "," {
                    rest = rest.dropFirst()
                } else if rest.first != "}" {
                    throw fail("expected ',' or '}' after label \(labelName)")
                }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(omittingEmptySubsequences: true) { $0 == " " || $0 == "\t" }
        guard rest.first == " " || rest.first == "\t", rest.last != " " && rest.last != "\t", (1...2).contains(fields.count) else {
            throw fail("expected ' value' or ' value timestamp' after \(name)")
        }
        guard let value = parseValue(fields[0]) else { throw fail("invalid value '\(fields[0])'") }
        if fields.count == 2 {
            let timestamp = fields[1].hasPrefix("-") ? fields[1].dropFirst() : fields[1]
            guard !timestamp.isEmpty, timestamp.allSatisfy(\.isASCIIDigit) else { throw fail("invalid timestamp '\(fields[1])'") }
        }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// A value as the format writes it: `NaN`, `+Inf`, `-Inf`, or a decimal number with an optional
    /// sign, fraction and exponent. Nil for anything else (hex, `inf`, `1_000`).
    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default: break
        }
        var rest = text
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        let whole = rest.prefix(while: \.isASCIIDigit)
        rest = rest.dropFirst(whole.count)
        var fraction: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: \.isASCIIDigit)
            rest = rest.dropFirst(fraction.count)
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
            let exponent = rest.prefix(while: \.isASCIIDigit)
            guard !exponent.isEmpty else { return nil }
            rest = rest.dropFirst(exponent.count)
        }
        guard rest.isEmpty else { return nil }
        return Double(text)
    }

    /// Undoes `\\`, `\n` and (in label values) `\"`; any other escape is an error.
    private static func unescape(_ text: Substring, quotes: Bool, line: Int) throws -> String {
        var out = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else {
                if quotes && character == "\"" { throw ParseError(line: line, message: "unescaped quote in a label value") }
                out.append(character)
                continue
            }
            switch iterator.next() {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            case "\"" where quotes: out.append("\"")
            case let other:
                throw ParseError(line: line, message: "invalid escape '\\\(other.map(String.init) ?? "")'")
            }
        }
        return out
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCIILetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" }
    }

    private static func isLabelName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCIILetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetter: Bool { isASCII && isLetter }
}
