import Foundation
import VirtsyncCore
import VirtsyncSpec

/// Locates the test fixtures next to this file (so that recording writes into the source tree).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The case folders under `Fixtures/diagnostics`, sorted.
    static func diagnosticCases() -> [String] {
        let directory = root.appendingPathComponent("diagnostics").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Reads a spec directory and loads it; the diagnostics of both steps together.
    static func load(_ directory: URL, commit: String? = nil) -> (SpecLoadResult, Diagnostics) {
        let (files, readDiagnostics) = DirectorySource(root: directory.path).files()
        let result = SpecLoader.load(files: files, commit: commit)
        return (result, Diagnostics(readDiagnostics.items + result.diagnostics.items))
    }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }

    /// Writes `text` at `relative`, creating directories.
    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
    }
}
