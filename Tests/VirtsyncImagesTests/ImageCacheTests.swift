import Crypto
import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncImages
import VirtsyncTestImageServer
import VirtsyncTestSupport

/// The image cache against a real HTTP server on loopback and real qcow2 files made by qemu-img.
@Suite("image cache")
struct ImageCacheTests {
    /// A small qcow2 (virtual size 64 MiB) with some data in it, and its SHA-256.
    static func qcow2(in scratch: ScratchDirectory, name: String = "base.qcow2", virtual: String = "64M") async throws -> (bytes: [UInt8], sha: String) {
        let raw = scratch.path("\(name).raw")
        // Non-zero data so the qcow2 has allocated clusters (and a download of several chunks).
        var data = [UInt8](repeating: 0, count: 3 << 20)
        for i in data.indices { data[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        _ = FileManager.default.createFile(atPath: raw, contents: Data(data))
        let path = scratch.path(name)
        let made = try await Command.run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, path])
        #expect(made.succeeded, "\(made.stderr)")
        let resized = try await Command.run("qemu-img", ["resize", "-f", "qcow2", path, virtual])
        #expect(resized.succeeded, "\(resized.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (bytes, Self.sha(bytes))
    }

    static func sha(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// A scratch directory, a qcow2 made in it, and a server on loopback serving it as `base.qcow2`.
    static func served() async throws -> (ScratchDirectory, (bytes: [UInt8], sha: String), ImageServer) {
        let scratch = try ScratchDirectory(prefix: "images")
        let image = try await qcow2(in: scratch)
        let server = try await ImageServer.start()
        server.serve("base.qcow2", image.bytes)
        return (scratch, image, server)
    }

    static func files(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/sha256")) ?? []).filter { !$0.hasSuffix(".lock") }.sorted()
    }

    @Test("an image is downloaded, verified and kept; the second request is served from the cache")
    func downloadsOnce() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let source = ImageSource(location: .url(server.url("base.qcow2")), sha256: image.sha)
        let local = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil)
        #expect(local.virtualSize == 64 << 20)
        #expect(local.length == UInt64(image.bytes.count))
        #expect(Self.sha([UInt8](try Data(contentsOf: URL(fileURLWithPath: local.path)))) == image.sha)
        let again = try await cache.localImage(source, as: .qcow2, for: "pool/other", progress: nil)
        #expect(again == local)
        #expect(server.requests.count == 1)
        #expect(Self.files(cache.directory) == [image.sha])
    }

    @Test("a wrong checksum fails with both digests and leaves nothing in the cache")
    func wrongChecksum() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let wrong = String(repeating: "ab", count: 32)
        let error = await #expect(throws: ImageError.self) {
            _ = try await cache.localImage(ImageSource(location: .url(server.url("base.qcow2")), sha256: wrong), as: .qcow2,
                                           for: "pool/base", progress: nil)
        }
        #expect(error?.code == .checksum)
        #expect(error?.message.contains(image.sha) == true && error?.message.contains(wrong) == true)
        #expect(Self.files(cache.directory).isEmpty)
    }

    @Test("a missing file (404) fails at once, without retries")
    func notFound() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        let server = try await ImageServer.start()
        defer { Task { await server.stop() } }
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [.milliseconds(10), .milliseconds(10)])
        let error = await #expect(throws: ImageError.self) {
            _ = try await cache.localImage(ImageSource(location: .url(server.url("nothing.qcow2")), sha256: String(repeating: "0", count: 64)),
                                           as: .qcow2, for: "pool/base", progress: nil)
        }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("HTTP 404") == true)
        #expect(server.requests.count == 1)
    }

    @Test("an unreachable server is retried, then fails the fetch")
    func unreachable() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        let port = try LoopbackPort.free()   // nothing listens there
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [.milliseconds(10)])
        let error = await #expect(throws: ImageError.self) {
            _ = try await cache.localImage(ImageSource(location: .url("http://127.0.0.1:\(port)/x.qcow2"), sha256: String(repeating: "0", count: 64)),
                                           as: .qcow2, for: "pool/base", progress: nil)
        }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("after 2 attempts") == true)
    }

    @Test("a download broken off is resumed with Range and verified as a whole")
    func resumes() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        server.set(.init(breakFirst: 2, breakAfterBytes: 256 * 1024))
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [.milliseconds(10), .milliseconds(10)])
        let progress = ProgressLog()
        let local = try await cache.localImage(ImageSource(location: .url(server.url("base.qcow2")), sha256: image.sha), as: .qcow2,
                                               for: "pool/base", progress: progress.sink)
        #expect(local.length == UInt64(image.bytes.count))
        // Each retry asks for the rest from where the file had got to (what arrived before the
        // break; at most the 256 KiB the server sent each time).
        let ranges = server.requests.map(\.range)
        #expect(ranges.count == 3 && ranges[0] == nil)
        let offsets = ranges.dropFirst().compactMap { $0.flatMap { Int($0.dropFirst(6).dropLast()) } }
        #expect(offsets.count == 2 && offsets[0] > 0 && offsets[0] <= 256 * 1024 && offsets[1] > offsets[0] && offsets[1] <= 512 * 1024)
        #expect(progress.phases.contains(.download) && progress.phases.contains(.verify))
    }

    @Test("an interrupted download survives to the next fetch, which resumes it; a damaged partial file is never trusted")
    func partialAcrossFetches() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let source = ImageSource(location: .url(server.url("base.qcow2")), sha256: image.sha)
        server.set(.init(breakFirst: 1, breakAfterBytes: 512 * 1024))
        await #expect(throws: ImageError.self) { _ = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil) }
        #expect(Self.files(cache.directory) == ["\(image.sha).partial"])

        // Damage the partial file: the resumed download then has the wrong digest, is dropped,
        // and the next fetch starts again from the first byte.
        let partial = cache.directory + "/sha256/\(image.sha).partial"
        let handle = try #require(FileHandle(forWritingAtPath: partial))
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([0xFF, 0xFF, 0xFF, 0xFF]))
        try handle.close()
        let damaged = await #expect(throws: ImageError.self) { _ = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil) }
        #expect(damaged?.code == .checksum)
        #expect(Self.files(cache.directory).isEmpty)

        server.set(.init(breakFirst: 1, breakAfterBytes: 512 * 1024))
        await #expect(throws: ImageError.self) { _ = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil) }
        let local = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil)
        #expect(local.length == UInt64(image.bytes.count))
        let ranges = server.requests.map(\.range)
        #expect(ranges.count == 4 && ranges[0] == nil && ranges[2] == nil)
        #expect(ranges[1]?.hasPrefix("bytes=") == true && ranges[3]?.hasPrefix("bytes=") == true)
    }

    @Test("a server that ignores Range gets the download restarted from the first byte")
    func ignoresRange() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        server.set(.init(breakFirst: 1, breakAfterBytes: 300_000, ignoreRange: true))
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [.milliseconds(10)])
        let local = try await cache.localImage(ImageSource(location: .url(server.url("base.qcow2")), sha256: image.sha), as: .qcow2,
                                               for: "pool/base", progress: nil)
        #expect(local.length == UInt64(image.bytes.count))
        #expect(server.requests.count == 2)
    }

    @Test("several volumes of one image at once share one download")
    func coalesces() async throws {
        let (scratch, image, server) = try await Self.served()
        defer { Task { await server.stop() } }
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let source = ImageSource(location: .url(server.url("base.qcow2")), sha256: image.sha)
        let results = try await withThrowingTaskGroup(of: LocalImage.self) { group in
            for i in 0..<4 { group.addTask { try await cache.localImage(source, as: .qcow2, for: "pool/v\(i)", progress: nil) } }
            return try await group.reduce(into: [LocalImage]()) { $0.append($1) }
        }
        #expect(Set(results).count == 1)
        #expect(server.requests.count == 1)
    }

    @Test("a qcow2 image is converted for a raw volume, and the raw copy is cached beside it")
    func converts() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        let image = try await Self.qcow2(in: scratch, virtual: "8M")
        let path = scratch.path("base.qcow2")
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let local = try await cache.localImage(ImageSource(location: .file(path), sha256: image.sha, format: .qcow2), as: .raw,
                                               for: "pool/raw", progress: nil)
        #expect(local.path.hasSuffix(".raw"))
        #expect(local.virtualSize == 8 << 20 && local.length == 8 << 20)
        let info = try await Command.run("qemu-img", ["info", "--output=json", local.path])
        #expect(info.stdout.contains("\"format\": \"raw\""))
        #expect(Self.files(cache.directory) == [image.sha, "\(image.sha).raw"])
    }

    @Test("an image that is not in the declared format is refused, with the format to declare")
    func wrongFormat() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        let image = try await Self.qcow2(in: scratch)
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let error = await #expect(throws: ImageError.self) {
            _ = try await cache.localImage(ImageSource(location: .file(scratch.path("base.qcow2")), sha256: image.sha), as: .raw,
                                           for: "pool/raw", progress: nil)
        }
        #expect(error?.code == .refused)
        #expect(error?.message.contains("is qcow2, the spec says raw (set image.format: qcow2") == true)
    }

    @Test("an image that names a backing file is refused (it could read any file of the host)")
    func backingRefused() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        _ = try await Self.qcow2(in: scratch, name: "base.qcow2")
        let overlay = scratch.path("overlay.qcow2")
        let made = try await Command.run("qemu-img", ["create", "-f", "qcow2", "-F", "qcow2", "-b", scratch.path("base.qcow2"), overlay])
        #expect(made.succeeded, "\(made.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: overlay)))
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let error = await #expect(throws: ImageError.self) {
            _ = try await cache.localImage(ImageSource(location: .file(overlay), sha256: Self.sha(bytes)), as: .qcow2,
                                           for: "pool/o", progress: nil)
        }
        #expect(error?.code == .refused)
        #expect(error?.message.contains("backing file") == true)
    }

    @Test("a local file is copied into the cache and verified; a later change of the file cannot change the copy")
    func localFile() async throws {
        let scratch = try ScratchDirectory(prefix: "images")
        let image = try await Self.qcow2(in: scratch)
        let cache = ImageCache(directory: scratch.path("cache"), retryDelays: [])
        let source = ImageSource(location: .file(scratch.path("base.qcow2")), sha256: image.sha)
        let local = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil)
        #expect(local.path == cache.directory + "/sha256/\(image.sha)")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: scratch.path("base.qcow2")))
        let again = try await cache.localImage(source, as: .qcow2, for: "pool/base", progress: nil)
        #expect(Self.sha([UInt8](try Data(contentsOf: URL(fileURLWithPath: again.path)))) == image.sha)
    }
}

/// Collects progress reports.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [TransferProgress] = []
    var sink: TransferProgressSink { { p in self.lock.withLock { self.seen.append(p) } } }
    var phases: Set<TransferProgress.Phase> { lock.withLock { Set(seen.map(\.phase)) } }
}
