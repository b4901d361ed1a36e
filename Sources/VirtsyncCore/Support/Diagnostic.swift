/// A place in a spec file. Lines and columns are 1-based.
public struct SourceLocation: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// Path of the file, relative to the spec directory.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    /// `file:line:column`, or just the file when the position is unknown.
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// One problem found in a spec: where, which key, what.
public struct Diagnostic: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable { case error, warning }
    public var severity: Severity
    public var location: SourceLocation
    /// Key path inside the document, e.g. `vms[web-1].disks[0].volume`.
    public var path: String
    public var message: String

    public init(_ severity: Severity = .error, at location: SourceLocation, path: String = "", _ message: String) {
        self.severity = severity
        self.location = location
        self.path = path
        self.message = message
    }

    /// `file:line:col: error: path: message`, the format editors understand.
    public var description: String {
        "\(location): \(severity.rawValue): \(path.isEmpty ? "" : "\(path): ")\(message)"
    }
}

/// Diagnostics collected while loading and validating, sorted by position.
public struct Diagnostics: Sendable, Error, CustomStringConvertible {
    public var items: [Diagnostic]
    public init(_ items: [Diagnostic] = []) { self.items = items }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }

    /// One diagnostic per line, sorted by file, line and column.
    public var description: String {
        items.sorted { ($0.location, $0.path, $0.message) < ($1.location, $1.path, $1.message) }
            .map(\.description).joined(separator: "\n")
    }
}
