import Foundation
import Testing

/// Golden files: the one helper every test target uses for what a reviewer reads (plans, XML,
/// diagnostics). The files live in the source tree, so a recording writes where they are
/// reviewed (the copy SwiftPM bundles is never written).
///
/// `VIRTSYNC_RECORD=1` writes the actual output instead of comparing, and then records an issue
/// on the test that recorded: a recording run is never green. Review the `git diff` of the
/// files, then run the tests again without the switch.
public enum Golden {
    /// `true` when golden files are to be rewritten.
    public static var recording: Bool { ProcessInfo.processInfo.environment["VIRTSYNC_RECORD"] == "1" }

    /// Compares `actual` with the file at `url`, or records it (and fails the test).
    /// - Parameter name: how the file is named in messages (a path relative to the target).
    /// - Parameter record: whether to record instead of comparing (`recording` unless a test of
    ///   this helper says otherwise).
    public static func expect(_ actual: String, matches url: URL, name: String? = nil, record: Bool = Golden.recording,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let shown = name ?? url.path
        if record {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: url)
                Issue.record("recorded \(shown) (VIRTSYNC_RECORD=1): review the diff, then run the tests again without the switch",
                             sourceLocation: sourceLocation)
            } catch {
                Issue.record("cannot record \(shown): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing golden file \(shown); run with VIRTSYNC_RECORD=1 and review the output", sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        if let difference = firstDifference(expected: expected, actual: actual) {
            Issue.record("""
                \(shown) differs \(difference)
                (if the new output is right, re-record with VIRTSYNC_RECORD=1 and review the diff)
                """, sourceLocation: sourceLocation)
        }
    }

    /// Where two texts first differ, as `at line N:` with both lines quoted (so that trailing
    /// spaces and escape sequences show), or `nil` when they are equal.
    public static func firstDifference(expected: String, actual: String) -> String? {
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
