#if canImport(Glibc)
import Glibc
#endif

/// The process-wide answer to a peer that went away: an error (`EPIPE`) on the write, never a
/// `SIGPIPE` that kills the process.
///
/// libvirt's remote driver and libgit2's transports write to sockets without `MSG_NOSIGNAL`
/// and expect their callers to ignore `SIGPIPE`: a host killed while a call was in flight
/// killed a test process with signal 13. Every executable calls this first, and the libvirt
/// and libgit2 adapters call it in their one-time set-up, so test processes are covered too.
/// Child processes started with a reset signal mask get the default disposition back (the
/// test support's `ChildProcess` does; `exec` keeps an ignored disposition otherwise).
public enum BrokenPipes {
    private static let once: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// Ignores `SIGPIPE` for the rest of the process's life (idempotent, thread-safe).
    public static func ignore() { _ = once }
}
