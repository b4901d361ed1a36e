import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the service is doing, with the `sd_notify` protocol written out by hand:
/// each message is one datagram of `KEY=value` lines sent to the AF_UNIX socket systemd names in
/// `NOTIFY_SOCKET`. Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op returning false,
/// so the agent runs the same in a terminal, a container or a test.
///
/// Failures to send are reported by the return value only: systemd notification is advisory and
/// must never stop the agent (systemd itself notices a missing `READY=1` or watchdog ping).
public struct SystemdNotifier: Sendable {
    /// The socket address from `NOTIFY_SOCKET`: an absolute path, or `@name` for Linux's abstract
    /// namespace. Nil when not started by systemd (or when the variable is not an address this
    /// notifier can use).
    public let socketAddress: String?

    /// How often systemd expects `WATCHDOG=1` at the latest (`WATCHDOG_USEC`), when the unit has
    /// `WatchdogSec=` and the watchdog is meant for this process (`WATCHDOG_PID` unset or equal
    /// to our pid). Ping at `watchdogPingInterval`, half of it, as `sd_watchdog_enabled(3)` advises.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment` (the process
    /// environment unless a test injects another).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketAddress = environment["NOTIFY_SOCKET"].flatMap(Self.usableAddress)
        watchdogInterval = Self.watchdog(usec: environment["WATCHDOG_USEC"], pid: environment["WATCHDOG_PID"])
    }

    /// Whether the process runs under systemd with notification enabled.
    public var isEnabled: Bool { socketAddress != nil }

    /// Half of `watchdogInterval`: how often to send `watchdog()`, so that one late ping is not fatal.
    public var watchdogPingInterval: Duration? { watchdogInterval.map { $0 / 2 } }

    /// Sends `state` (newline-separated `KEY=value` assignments) as one datagram. Returns true
    /// when the datagram was sent; false when not under systemd or when sending failed.
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard let socketAddress, !state.isEmpty,
              let (address, length) = Self.socketAddress(socketAddress) else { return false }
        // A fresh socket per message, as sd_notify does: nothing to keep open or to leak into
        // children (and CLOEXEC for the moment it is open).
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bytes.withUnsafeBytes { buffer in
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, generic, length)
                }
            }
        }
        return sent == bytes.count
    }

    /// Startup is complete (`READY=1`), with a human-readable `STATUS=` line when given.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send("READY=1" + (status.map { "\nSTATUS=" + Self.oneLine($0) } ?? ""))
    }

    /// The free-form status `systemctl status` shows (`STATUS=`).
    @discardableResult
    public func status(_ text: String) -> Bool {
        send("STATUS=" + Self.oneLine(text))
    }

    /// The service is shutting down (`STOPPING=1`): systemd shows it as "deactivating".
    @discardableResult
    public func stopping() -> Bool {
        send("STOPPING=1")
    }

    /// The service is reloading (`RELOADING=1` with the `MONOTONIC_USEC=` systemd 253+ uses to
    /// match it); send `ready()` once the reload is done.
    @discardableResult
    public func reloading() -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        return send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    /// Keeps the watchdog from firing (`WATCHDOG=1`); only meaningful when `watchdogInterval` is set.
    @discardableResult
    public func watchdog() -> Bool {
        send("WATCHDOG=1")
    }

    // MARK: - Environment

    /// `address` when systemd's notification protocol can use it: an absolute path or an
    /// abstract name, short enough for `sockaddr_un`.
    private static func usableAddress(_ address: String) -> String? {
        guard address.hasPrefix("/") || (address.hasPrefix("@") && address.utf8.count > 1) else { return nil }
        return socketAddress(address) == nil ? nil : address
    }

    /// `WATCHDOG_USEC` as a duration, when positive and meant for this process.
    private static func watchdog(usec: String?, pid: String?) -> Duration? {
        guard let usec, let microseconds = UInt64(usec), microseconds > 0, microseconds <= UInt64(Int64.max) else {
            return nil
        }
        if let pid {
            // systemd sets WATCHDOG_PID so that a child that inherited the environment does not
            // believe the watchdog is its own.
            guard let owner = pid_t(pid), owner == getpid() else { return nil }
        }
        return .microseconds(Int64(microseconds))
    }

    /// The `sockaddr_un` for `address` and the length to pass with it; nil when the name does
    /// not fit. An abstract address (`@name`) starts with a NUL byte and its length counts only
    /// the bytes of the name, as the kernel compares every byte of it.
    private static func socketAddress(_ address: String) -> (sockaddr_un, socklen_t)? {
        var result = sockaddr_un()
        result.sun_family = sa_family_t(AF_UNIX)
        let abstract = address.hasPrefix("@")
        var name = Array(address.utf8)
        if abstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: result.sun_path)
        // A path needs room for its terminating NUL; an abstract name does not have one.
        guard name.count <= (abstract ? capacity : capacity - 1) else { return nil }
        withUnsafeMutableBytes(of: &result.sun_path) { path in
            path.copyBytes(from: name)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let length = pathOffset + name.count + (abstract ? 0 : 1)
        return (result, socklen_t(length))
    }

    /// `text` with newlines turned into spaces: a newline would start another assignment.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
