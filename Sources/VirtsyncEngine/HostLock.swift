import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on one libvirt host, whoever reaches it and however: one apply or agent
/// pass writes to a host at a time, whatever their state directories and URIs (a local socket
/// and `qemu+ssh://` to the same machine have the same host UUID, so the same lock).
///
/// A lock file per host (`<directory>/<host key>.lock`) in the machine-wide hosts directory,
/// held with `flock`: the kernel drops it when the holder dies, so a crash never leaves a
/// host locked. The holder writes who it is into the file, so a waiter that gives up names it.
/// Locks across machines need a coordination service; with HA configured that is etcd.
public final class HostLock: Sendable {
    private let fd: Int32
    /// The lock file.
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Takes the lock of `hostKey`, waiting up to `timeout` for another holder to finish.
    /// - Parameter holder: who takes it (`virtsync apply, pid 1234, owner team-a/lab`), written
    ///   into the lock file for the message of whoever waits.
    /// - Throws: `EngineError` naming the holder when the lock is still held after `timeout`,
    ///   or when the lock file cannot be opened.
    public static func acquire(directory: String, hostKey: String, holder: String, timeout: Duration) async throws -> HostLock {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EngineError("cannot create the hosts directory \(directory): \(error)")
        }
        let path = (directory as NSString).appendingPathComponent("\(InventoryStore.fileName(hostKey)).lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EngineError("cannot open the host lock \(path): \(String(cString: strerror(errno)))") }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, clock.now < deadline else {
                let who = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                close(fd)
                throw EngineError("host \(hostKey) is locked by another virtsync\(who.isEmpty ? "" : " (\(who))"); gave up after \(timeout.components.seconds) s (lock \(path))")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let text = "\(holder), since \(ISO8601DateFormatter().string(from: Date()))\n"
        if ftruncate(fd, 0) == 0 {
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
        return HostLock(fd: fd, path: path)
    }

    /// Takes the locks of several hosts in a fixed order (so two holders of overlapping sets
    /// never wait on each other in a circle); on failure, releases what it took.
    public static func acquireAll(directory: String, hostKeys: [String], holder: String, timeout: Duration) async throws -> [HostLock] {
        var held: [HostLock] = []
        for key in Set(hostKeys).sorted() {
            do {
                held.append(try await acquire(directory: directory, hostKey: key, holder: holder, timeout: timeout))
            } catch {
                held.forEach { $0.release() }
                throw error
            }
        }
        return held
    }

    /// Releases the lock (and clears the holder's name).
    public func release() {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
    }

    deinit { close(fd) }
}

/// Where the machine-wide host files live: the inventory (`<host>.json`) and lock
/// (`<host>.lock`) of every libvirt host this machine's virtsync instances reach.
public enum HostsDirectory {
    /// `VIRTSYNC_HOSTS_DIR`, else `/var/lib/virtsync/hosts`: the same for every state directory.
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        explicit ?? environment["VIRTSYNC_HOSTS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/virtsync/hosts"
    }
}
