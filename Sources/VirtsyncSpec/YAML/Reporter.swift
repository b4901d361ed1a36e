import VirtsyncCore

/// Collects the diagnostics of one load. Used on one thread only, inside `SpecLoader.load`.
package final class Reporter {
    package init() {}
    package private(set) var items: [Diagnostic] = []
    private(set) var errorCount = 0

    /// Takes over another reporter's diagnostics, after its own.
    package func absorb(_ other: Reporter) {
        items += other.items
        errorCount += other.errorCount
    }

    /// Records an error.
    package func error(_ location: SourceLocation, _ path: String, _ message: String) {
        items.append(Diagnostic(.error, at: location, path: path, message))
        errorCount += 1
    }

    /// Records a warning.
    package func warning(_ location: SourceLocation, _ path: String, _ message: String) {
        items.append(Diagnostic(.warning, at: location, path: path, message))
    }

    package var hasErrors: Bool { errorCount > 0 }
}

/// A value read from a spec, with the place it was written.
package struct Located<Value: Sendable>: Sendable {
    package var value: Value
    package var location: SourceLocation

    package init(_ value: Value, _ location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}

extension String {
    /// The string quoted for a message, with control characters escaped so that a diagnostic
    /// always stays on one line.
    package var quotedForMessage: String { "'" + escapedForPath + "'" }

    /// The string with control characters escaped as `\u{..}`.
    package var escapedForPath: String {
        var out = ""
        for scalar in unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
