import Crypto
import Foundation
import VirtsyncEngine

/// File operations of the image cache.
enum FileSystem {
    /// The length of a file.
    static func size(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImageError(.other, "cannot read \(path): \(String(cString: strerror(errno)))") }
        return UInt64(info.st_size)
    }

    /// Flushes `source` to disk and renames it to `destination` (then flushes the directory), so
    /// after a crash the destination is either absent or whole.
    static func syncAndRename(_ source: String, to destination: String) throws {
        let fd = open(source, O_RDONLY)
        guard fd >= 0 else { throw ImageError(.other, "cannot open \(source): \(String(cString: strerror(errno)))") }
        _ = fsync(fd)
        close(fd)
        guard rename(source, destination) == 0 else {
            throw ImageError(.other, "cannot rename \(source): \(String(cString: strerror(errno)))")
        }
        let dir = open((destination as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// Copies a local image file into the cache while hashing it (the copy is what is checked
    /// and uploaded, so a file changed afterwards cannot change what was verified).
    static func copyHashing(_ source: String, to destination: String, subject: String, maxBytes: UInt64,
                            progress: TransferProgressSink?) async throws -> (digest: String, length: UInt64) {
        try await offCooperativePool {
            var info = stat()
            guard stat(source, &info) == 0 else {
                throw ImageError(.unreachable, "cannot read the image file \(source): \(String(cString: strerror(errno)))")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw ImageError(.refused, "the image file \(source) is not a regular file") }
            let total = UInt64(info.st_size)
            guard total <= maxBytes else { throw ImageError(.refused, "the image file \(source) is larger than the limit of \(maxBytes) bytes") }
            guard let input = FileHandle(forReadingAtPath: source) else {
                throw ImageError(.unreachable, "cannot read the image file \(source)")
            }
            defer { try? input.close() }
            try? FileManager.default.removeItem(atPath: destination)
            guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let output = FileHandle(forWritingAtPath: destination) else {
                throw ImageError(.other, "cannot write \(destination)")
            }
            defer { try? output.close() }
            var hasher = SHA256()
            var done: UInt64 = 0
            var reported = ContinuousClock.now
            while let chunk = try input.read(upToCount: 4 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                done += UInt64(chunk.count)
                if let progress, ContinuousClock.now - reported > .milliseconds(200) {
                    reported = ContinuousClock.now
                    progress(TransferProgress(phase: .download, subject: subject, done: done, total: total))
                }
            }
            try output.synchronize()
            return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), done)
        }
    }
}

/// An exclusive `flock` on a file, taken without blocking a thread: another process fetching the
/// same image is waited for by polling.
struct FileLock: Sendable {
    let fd: Int32

    static func acquire(_ path: String) async throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageError(.other, "cannot open \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw ImageError(.other, "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                close(fd)
                throw error
            }
        }
        return FileLock(fd: fd)
    }

    func release() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
