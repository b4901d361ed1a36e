import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Linux watchdog interface (`/dev/watchdog`, `softdog`, or the testbed's emulation of a
/// hardware watchdog): opened once, and every write of a byte is a pet. The timeout is set with
/// `WDIOC_SETTIMEOUT` where the device takes it (a plain file or FIFO does not, and that is fine).
///
/// Pets closer together than `minimumInterval` are skipped: the HA controller asks for one on
/// every event, the device needs one per few seconds. The device is never disarmed (no magic
/// `V` on close): an agent that exits without a clean stop must still be covered.
public final class FileWatchdog: HAWatchdog, @unchecked Sendable {
    // `lock` guards `lastPet`.
    private let lock = NSLock()
    private let fd: Int32
    private var lastPet: Duration?
    private let minimumInterval: Duration
    private let now: @Sendable () -> Duration
    public let path: String

    /// Opens `path` for writing and asks for `timeout` (in whole seconds, rounded up).
    /// - Throws: `WatchdogError` naming the path and the system's reason.
    public init(path: String, timeout: Duration, minimumInterval: Duration = .milliseconds(500),
                now: @escaping @Sendable () -> Duration = BootClock.now) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw WatchdogError(path: path, reason: String(cString: strerror(errno))) }
        var seconds = Int32(timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0))
        // WDIOC_SETTIMEOUT = _IOWR('W', 6, int); a device that does not take it keeps its own.
        let setTimeout: UInt = 0xC004_5706
        _ = withUnsafeMutablePointer(to: &seconds) { ioctl(fd, setTimeout, $0) }
        self.fd = fd
        self.path = path
        self.minimumInterval = minimumInterval
        self.now = now
    }

    deinit { close(fd) }

    public func pet() throws {
        let at = now()
        let due = lock.withLock { () -> Bool in
            if let last = lastPet, at - last < minimumInterval { return false }
            lastPet = at
            return true
        }
        guard due else { return }
        var byte: UInt8 = 0x2E  // any byte but 'V'
        if write(fd, &byte, 1) != 1 {
            throw WatchdogError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Why the watchdog could not be opened or petted.
public struct WatchdogError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public var description: String { "watchdog \(path): \(reason)" }
}
