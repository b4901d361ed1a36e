import CLibvirt
import Dispatch
import Foundation
import VirtsyncEngine

/// One open libvirt connection (`virConnectPtr`), closed when the last reference goes.
///
/// Thread safety: every use of the connection pointer happens inside `run`, on the
/// connection's own serial `DispatchQueue`, so calls are serialized and never block Swift's
/// cooperative thread pool. libvirt keeps the last error per thread; because a body runs to its
/// end on one queue thread, errors are read on the thread of the failed call. That is what makes
/// the `@unchecked Sendable` sound.
///
/// Deadlines: libvirt has no timeouts of its own, and a dead peer can hang a call. `open` and
/// `run` give up after their deadline with `HypervisorError(.timeout)`; the blocked call keeps
/// the queue busy until libvirt returns (keepalive breaks a dead remote connection within
/// about 15 s), and calls queued behind it run out of time too.
public final class LibvirtConnection: @unchecked Sendable {
    /// The URI, without a password.
    public let uri: String
    private let pointer: OpaquePointer
    private let queue: DispatchQueue
    /// For read-only calls issued side by side (libvirt connections are thread-safe; the remote
    /// driver keeps several calls in flight on one socket).
    private let readers: DispatchQueue
    private let secret: String?
    /// Lifecycle-event registrations, shared by all subscribers (see `LibvirtEventHub`).
    let eventHub = LibvirtEventHub()

    private init(pointer: OpaquePointer, uri: String, secret: String?) {
        self.pointer = pointer
        self.uri = uri
        self.secret = secret
        self.queue = DispatchQueue(label: "virtsync.libvirt.connection")
        self.readers = DispatchQueue(label: "virtsync.libvirt.readers", attributes: .concurrent)
    }

    deinit {
        virConnectClose(pointer)
    }

    /// Opens a connection, giving up after `timeout`.
    ///
    /// Keepalive (every 5 s, 3 missed answers) is enabled on every driver that supports it;
    /// drivers without it (the test driver, local drivers) are left as they are.
    /// - Throws: `HypervisorError` `.unreachable` (with libvirt's code and message, never the
    ///   password) or `.timeout`.
    public static func open(uri: String, timeout: Duration = .seconds(10)) async throws -> LibvirtConnection {
        LibvirtRuntime.setUp()
        let redacted = URIRedaction.redact(uri)
        let secret = URIRedaction.password(in: uri)
        let operation = "connect to \(redacted)"
        return try await withDeadline(timeout, operation: operation, on: DispatchQueue(label: "virtsync.libvirt.connect")) {
            guard let pointer = virConnectOpen(uri) else {
                var error = LibvirtErrors.last(operation, secret: secret)
                // Whatever went wrong, the host cannot be used: the contract says unreachable.
                if error.code != .timeout { error.code = .unreachable }
                throw error
            }
            let connection = LibvirtConnection(pointer: pointer, uri: redacted, secret: secret)
            if !uri.hasPrefix("test:") {
                // A peer silent for 2 s × 3 probes is gone (a cut network or a frozen daemon is
                // noticed in 6 to 8 s, where TCP alone takes minutes). 1 means the peer has no
                // keepalive; -1 a driver without it. Neither is fatal.
                _ = virConnectSetKeepAlive(pointer, 2, 3)
                virResetLastError()
            }
            return connection
        }
    }

    /// Runs `body` on the connection's queue and waits for it at most `timeout`.
    /// - Parameters:
    ///   - operation: what is being done, for error messages (`define domain web-1`).
    ///   - body: the libvirt calls; throw `call.error(...)` right after a failed call.
    func run<T: Sendable>(_ operation: String, timeout: Duration,
                          _ body: @escaping @Sendable (LibvirtCall) throws -> T) async throws -> T {
        try await LibvirtConnection.withDeadline(timeout, operation: operation, on: queue) {
            try body(LibvirtCall(conn: self.pointer, secret: self.secret))
        }
    }

    /// Like `run`, for read-only bodies that may run at the same time as others (observation).
    /// Each body still runs to its end on one thread, so libvirt's per-thread error is read
    /// on the thread of the failed call.
    func runConcurrently<T: Sendable>(_ operation: String, timeout: Duration,
                                      _ body: @escaping @Sendable (LibvirtCall) throws -> T) async throws -> T {
        try await LibvirtConnection.withDeadline(timeout, operation: operation, on: readers) {
            try body(LibvirtCall(conn: self.pointer, secret: self.secret))
        }
    }

    /// Runs `body` on the connection's queue later, without a deadline and without waiting:
    /// for cleanup that must happen even after callers gave up (deregistering event callbacks).
    /// The queued body keeps the connection alive until it ran.
    func enqueue(_ body: @escaping @Sendable (LibvirtCall) -> Void) {
        queue.async { body(LibvirtCall(conn: self.pointer, secret: self.secret)) }
    }

    /// Runs `work` on `queue` and resumes with its result, or with a timeout after `timeout`.
    private static func withDeadline<T: Sendable>(_ timeout: Duration, operation: String, on queue: DispatchQueue,
                                                  _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = ResumeOnce(continuation)
            let timer = DispatchWorkItem {
                once.resume(with: .failure(HypervisorError(
                    code: .timeout, message: "no answer within \(timeout)", operation: operation)))
            }
            once.setTimer(timer)
            queue.async {
                // A call whose deadline passed while it waited in the queue is not made late:
                // its caller was already told it timed out and moved on.
                guard !once.isResolved else { return }
                once.resume(with: Result { try work() })
            }
            deadlines.asyncAfter(deadline: .now() + dispatchInterval(timeout), execute: timer)
        }
    }

    /// Where deadlines fire: a serial queue of their own, so a timer never waits for a thread.
    /// On the global queue it did: libdispatch on Linux cannot see a thread blocked in a libvirt
    /// call, counts it as busy, and a 500 ms deadline fired after 14.7 s while two reads of
    /// other connections were blocked on a 2-core machine.
    private static let deadlines = DispatchQueue(label: "virtsync.libvirt.deadlines")
}

/// What a body passed to `LibvirtConnection.run` works with; valid only inside the body.
struct LibvirtCall {
    /// The `virConnectPtr`.
    let conn: OpaquePointer
    let secret: String?

    /// The last libvirt error of this thread, as a `HypervisorError` for `operation`.
    func error(_ operation: String) -> HypervisorError {
        LibvirtErrors.last(operation, secret: secret)
    }

    /// Throws the last error when `result` is negative (libvirt's failure convention).
    func check(_ result: Int32, _ operation: @autoclosure () -> String) throws {
        if result < 0 { throw error(operation()) }
    }
}

/// Resumes a continuation once; later attempts (the losing side of a deadline) are dropped.
/// Resuming cancels the deadline's timer. All state is guarded by the lock.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var timer: DispatchWorkItem?

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = continuation }

    func setTimer(_ timer: DispatchWorkItem) {
        lock.lock()
        self.timer = timer
        lock.unlock()
    }

    /// `true` once the continuation was resumed (by the work or by the deadline).
    var isResolved: Bool {
        lock.lock()
        defer { lock.unlock() }
        return continuation == nil
    }

    func resume(with result: Result<T, any Error>) {
        lock.lock()
        let continuation = self.continuation
        let timer = self.timer
        self.continuation = nil
        self.timer = nil
        lock.unlock()
        timer?.cancel()
        continuation?.resume(with: result)
    }
}

/// A `Duration` as a dispatch interval (nanoseconds, saturating).
private func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = Int(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
    let nanoseconds = overflow ? Int.max : whole.addingReportingOverflow(Int(attoseconds / 1_000_000_000)).partialValue
    return .nanoseconds(max(0, nanoseconds))
}

/// Process-wide libvirt setup, done once before the first connection.
enum LibvirtRuntime {
    private static let once: Void = {
        BrokenPipes.ignore()
        _ = virInitialize()
        // libvirt prints every error to stderr unless a handler is set; errors are read with
        // virGetLastError instead.
        virSetErrorFunc(nil, silentErrorHandler)
        // Keepalive needs an event loop: register libvirt's default one and run it on a thread
        // of its own for the life of the process.
        if virEventRegisterDefaultImpl() == 0 {
            let thread = Thread {
                while true { _ = virEventRunDefaultImpl() }
            }
            thread.name = "virtsync.libvirt.events"
            thread.start()
        }
    }()

    /// Initializes libvirt, silences its stderr output and starts the event loop (once).
    static func setUp() { _ = once }
}

/// Capture-free C callback: closures capturing context crash the Swift 6.3 compiler here.
private let silentErrorHandler: virErrorFunc = { _, _ in }
