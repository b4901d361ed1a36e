import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see the old or the new content, never a torn one.
public enum AtomicFile {
    /// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory. With `durable: false` the two fsyncs are left out: readers still
    /// never see a torn file, but a power cut may leave the old content (for files rewritten
    /// often whose loss costs nothing, like the agent's status after every pass).
    public static func write(path: String, data: Data, durable: Bool = true) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EngineError("cannot write \(tmp): \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n <= 0 { ok = false; break }
                offset += n
            }
        }
        if durable, fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw EngineError("cannot write \(tmp): \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw EngineError("cannot rename \(tmp) to \(path): \(String(cString: strerror(errno)))")
        }
        guard durable else { return }
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
