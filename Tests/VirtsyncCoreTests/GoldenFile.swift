import Foundation
import Testing

/// Golden files of this test target, under `Golden/` next to this file: the source tree, so that
/// recording writes where the files are reviewed (the copy SwiftPM bundles is never written).
///
/// `VIRTSYNC_RECORD=1` writes the actual output instead of comparing with it; review the
/// `git diff` of the folder before committing a recording.
enum GoldenFile {
    /// `Tests/VirtsyncCoreTests/Golden` in the source tree.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `true` when the golden files are to be rewritten.
    static var recording: Bool { ProcessInfo.processInfo.environment["VIRTSYNC_RECORD"] == "1" }

    /// Compares `actual` with the file at `path` (relative to `Golden/`), or records it.
    static func expect(_ actual: String, matches path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = root.appendingPathComponent(path)
        if recording {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: url)
            } catch {
                Issue.record("cannot record \(path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing golden file Golden/\(path); run with VIRTSYNC_RECORD=1 and review the output", sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        if let difference = firstDifference(expected: expected, actual: actual) {
            Issue.record("""
                Golden/\(path) differs \(difference)
                (if the new output is right, re-record with VIRTSYNC_RECORD=1 and review the diff)
                """, sourceLocation: sourceLocation)
        }
    }

    /// Where two texts first differ, as `at line N:` with both lines quoted (so that trailing
    /// spaces and escape sequences show), or `nil` when they are equal.
    static func firstDifference(expected: String, actual: String) -> String? {
        guard expected != actual else { return nil }
        let e = lines(expected), a = lines(actual)
        var line = 0
        while line < e.count, line < a.count, e[line] == a[line] { line += 1 }
        if line == e.count, line == a.count {
            return "only in the newline at the end (expected \(expected.hasSuffix("\n") ? "one" : "none"), got \(actual.hasSuffix("\n") ? "one" : "none"))"
        }
        func show(_ lines: [Substring]) -> String {
            line < lines.count ? String(lines[line]).debugDescription : "(end of text)"
        }
        return """
            at line \(line + 1) (expected \(e.count) lines, got \(a.count)):
              expected: \(show(e))
              actual:   \(show(a))
            """
    }

    /// The lines of a text; a final newline ends the last line rather than starting another.
    private static func lines(_ text: String) -> [Substring] {
        var out = text.split(separator: "\n", omittingEmptySubsequences: false)
        if text.hasSuffix("\n") { out.removeLast() }
        return out
    }
}
