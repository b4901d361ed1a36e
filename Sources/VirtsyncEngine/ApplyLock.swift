import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on the state directory: one apply (or agent) per host at a time. Held
/// until the process exits or `release` is called; the kernel drops it if the process dies.
public final class ApplyLock: Sendable {
    private let fd: Int32

    /// Takes the lock without waiting.
    /// - Throws: `EngineError` naming the lock file when another virtsync holds it.
    public init(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let path = (stateDirectory as NSString).appendingPathComponent("lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EngineError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw EngineError("another virtsync is applying with state directory \(stateDirectory) (lock \(path) is held)")
        }
        self.fd = fd
    }

    /// Releases the lock.
    public func release() { flock(fd, LOCK_UN) }

    deinit { close(fd) }
}
