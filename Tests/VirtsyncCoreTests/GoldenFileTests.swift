import Foundation
import Testing
import VirtsyncGolden

/// The golden-file helper reports a mismatch readably.
@Suite("golden file helper")
struct GoldenFileTests {
    @Test("equal texts have no difference")
    func equal() {
        #expect(Golden.firstDifference(expected: "a\nb\n", actual: "a\nb\n") == nil)
    }

    @Test("the first differing line is named with both versions quoted")
    func differingLine() throws {
        let message = try #require(Golden.firstDifference(expected: "a\nb \nc\n", actual: "a\nb\nd\n"))
        #expect(message.contains("at line 2"))
        #expect(message.contains("expected: \"b \""))
        #expect(message.contains("actual:   \"b\""))
    }

    @Test("a missing or extra line at the end is reported as the end of the text")
    func lengths() throws {
        let shorter = try #require(Golden.firstDifference(expected: "a\nb\n", actual: "a\n"))
        #expect(shorter.contains("at line 2"))
        #expect(shorter.contains("actual:   (end of text)"))
        let longer = try #require(Golden.firstDifference(expected: "a\n", actual: "a\nb\n"))
        #expect(longer.contains("expected: (end of text)"))
        #expect(longer.contains("actual:   \"b\""))
        let noNewline = try #require(Golden.firstDifference(expected: "a\n", actual: "a"))
        #expect(noNewline.contains("newline at the end"))
    }

    @Test("escape sequences are shown, not interpreted")
    func escapes() throws {
        let message = try #require(Golden.firstDifference(expected: "\u{1B}[31mx\u{1B}[0m\n", actual: "x\n"))
        #expect(message.contains("\\u{1B}[31m"))
    }

    @Test("a recording run writes the file and fails the test that recorded; a mismatch fails; a match passes")
    func recordingFails() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-golden-\(UUID().uuidString)/case/out.txt")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent().deletingLastPathComponent()) }
        withKnownIssue("recording is never green") {
            Golden.expect("new output\n", matches: url, record: true)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "new output\n")
        Golden.expect("new output\n", matches: url, record: false)
        withKnownIssue("a difference fails") {
            Golden.expect("other output\n", matches: url, record: false)
        }
        withKnownIssue("a missing file fails") {
            Golden.expect("x", matches: url.appendingPathExtension("missing"), record: false)
        }
    }
}
