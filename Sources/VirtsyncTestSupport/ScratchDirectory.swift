import Foundation

/// A uniquely named temporary directory, removed with everything in it when the value is released.
public final class ScratchDirectory: Sendable {
    /// The directory (already created).
    public let url: URL

    /// Creates `$TMPDIR/virtsync-<prefix>-<uuid>`.
    public init(prefix: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtsync-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The absolute path of the directory.
    public var path: String { url.path }

    /// The absolute path of `relative` inside the directory (nothing is created).
    public func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    /// Creates the directory `relative` (and its parents) and returns its absolute path.
    @discardableResult
    public func makeDirectory(_ relative: String) throws -> String {
        let target = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        return target.path
    }
}
