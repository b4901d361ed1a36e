import Foundation

/// What `virtsync validate --format json` writes (specs/validate.schema.json): every diagnostic
/// with its file, line, column, key path and severity, whether the spec is valid, and counts.
public struct ValidationReport: Hashable, Sendable, Encodable {
    /// Version of this JSON format; bumped on incompatible changes only (specs/output-json.md).
    public static let formatVersion = 1

    public struct Entry: Hashable, Sendable, Encodable {
        public var file: String
        /// 1-based; nil when the problem has no place in a file (placement of the whole cluster).
        public var line: Int?
        public var column: Int?
        public var path: String
        public var severity: Diagnostic.Severity
        public var message: String
    }

    public struct Summary: Hashable, Sendable, Encodable {
        public var errors: Int
        public var warnings: Int
    }

    public var formatVersion = ValidationReport.formatVersion
    public var valid: Bool
    public var path: String
    public var diagnostics: [Entry]
    public var summary: Summary

    /// - Parameters:
    ///   - path: what was validated (the directory, or the repository and path).
    ///   - diagnostics: the loader's, each with its place.
    ///   - unplaced: problems of the whole spec, without a place (reported against `path`).
    public init(path: String, diagnostics: [Diagnostic], unplaced: [(Diagnostic.Severity, String)] = []) {
        let sorted = diagnostics.sorted { ($0.location, $0.path, $0.message) < ($1.location, $1.path, $1.message) }
        let placed = sorted.map {
            Entry(file: $0.location.file, line: $0.location.line > 0 ? $0.location.line : nil,
                  column: $0.location.line > 0 ? max($0.location.column, 1) : nil, path: $0.path, severity: $0.severity, message: $0.message)
        }
        self.diagnostics = placed + unplaced.map { Entry(file: path, line: nil, column: nil, path: "", severity: $0.0, message: $0.1) }
        self.path = path
        let errors = self.diagnostics.count { $0.severity == .error }
        self.valid = errors == 0
        self.summary = Summary(errors: errors, warnings: self.diagnostics.count - errors)
    }

    /// The report as JSON: snake_case keys, sorted, one trailing newline.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
