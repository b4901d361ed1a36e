import Foundation

/// Editing the working clone's files; `commit` stages whatever changed (`git add -A`).
extension GitFixture {
    /// Writes UTF-8 `text` at the relative path `path`, creating directories.
    public func write(_ path: String, _ text: String) throws {
        try write(path, bytes: Array(text.utf8))
    }

    /// Writes `bytes` at the relative path `path`, creating directories.
    public func write(_ path: String, bytes: [UInt8]) throws {
        let file = workURL(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
    }

    /// Reads the working clone's file at `path` as UTF-8 text.
    public func read(_ path: String) throws -> String {
        try String(contentsOf: workURL(path), encoding: .utf8)
    }

    /// Removes the file, symbolic link or directory (with its contents) at `path`.
    public func delete(_ path: String) throws {
        try FileManager.default.removeItem(at: workURL(path))
    }

    /// Moves the file or directory at `path` to `destination`, creating the destination's parents.
    public func rename(_ path: String, to destination: String) throws {
        let target = workURL(destination)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: workURL(path), to: target)
    }

    /// Creates a symbolic link at `path` whose target is the text `target` (relative or absolute,
    /// dangling or not: git stores the text, mode 120000).
    public func symlink(_ path: String, to target: String) throws {
        let link = workURL(path)
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
    }

    /// Writes `count` bytes that are not text (NUL bytes, invalid UTF-8) at `path`; returns them.
    @discardableResult
    public func writeBinary(_ path: String, count: Int = 1024) throws -> [UInt8] {
        let bytes = [0x00, 0xFF, 0xFE, 0x00, 0xC3, 0x28] + (0..<max(0, count - 6)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        try write(path, bytes: Array(bytes.prefix(count)))
        return Array(bytes.prefix(count))
    }

    /// Writes a file of exactly `size` bytes that zlib cannot shrink much (a 64 KiB pseudo-random
    /// block, longer than zlib's 32 KiB window, repeated), for size-limit tests.
    public func writeHuge(_ path: String, size: Int) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let block: [UInt8] = (0..<65_536).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let file = workURL(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let handle = try Command.openForWriting(file)
        defer { try? handle.close() }
        var remaining = size
        let data = Data(block)
        while remaining > 0 {
            let chunk = min(remaining, data.count)
            try handle.write(contentsOf: data.prefix(chunk))
            remaining -= chunk
        }
    }

    /// The absolute file URL of `path` inside the working clone.
    public func workURL(_ path: String) -> URL {
        URL(fileURLWithPath: workPath).appendingPathComponent(path)
    }
}
