import Foundation
import Testing
import VirtsyncGolden

/// This target's golden files, under `Golden/` next to this file, through the shared `Golden`
/// helper (`VIRTSYNC_RECORD=1` records them and fails the recording test).
enum GoldenFile {
    /// `Tests/VirtsyncCoreTests/Golden` in the source tree.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `true` when the golden files are to be rewritten.
    static var recording: Bool { Golden.recording }

    /// Compares `actual` with the file at `path` (relative to `Golden/`), or records it.
    static func expect(_ actual: String, matches path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Golden.expect(actual, matches: root.appendingPathComponent(path), name: "Golden/\(path)", sourceLocation: sourceLocation)
    }
}
