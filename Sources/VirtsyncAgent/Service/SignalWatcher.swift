import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Unix signals as an async sequence, so the agent's loop can `for await` SIGHUP (reconcile now)
/// and SIGTERM/SIGINT (finish the step in flight, then stop) next to its other events.
public enum SignalWatcher {
    /// The signals among `numbers` that reach the process, in the order they arrive. Signals of
    /// the same number that arrive together may be delivered once.
    ///
    /// While the stream is alive the signals are taken away from their default action (SIGTERM
    /// no longer kills the process); when it ends (the consumer stops iterating or the stream is
    /// released), their dispatch sources are cancelled and the handling in place before the
    /// first stream (normally the default action) comes back, unless another stream still
    /// watches the same signal. Watch a signal only through this type: a handler installed
    /// elsewhere while a stream is alive would be overwritten when the stream ends.
    public static func signals(_ numbers: [Int32]) -> AsyncStream<Int32> {
        let unique = Array(Set(numbers)).sorted()
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(64))
        let sources = SourceSet(unique.map { number in
            // Taken from its default action first (SIG_IGN until libdispatch installs its own
            // handler): the default would terminate the process on SIGHUP, SIGTERM or SIGUSR1
            // before the source sees anything.
            registry.watch(number)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        })
        continuation.onTermination = { _ in
            sources.cancel()
            for number in unique { registry.unwatch(number) }
        }
        return stream
    }

    /// One serial queue for every watcher: signal events are rare and handled in microseconds.
    private static let queue = DispatchQueue(label: "virtsync.agent.signals")

    private static let registry = Registry()

    /// How many streams watch each signal, and the dispositions to put back.
    ///
    /// libdispatch on Linux installs its own handler the first time it sees a signal (it blocks
    /// the signal in the receiving thread and re-raises it to its manager thread, which reads a
    /// signalfd), and never installs it again. So when the last stream ends, that handler is
    /// kept here, and the next stream for the same signal puts it back instead of SIG_IGN:
    /// with SIG_IGN alone, a signal delivered to a thread that does not block it would be lost.
    private final class Registry: @unchecked Sendable {
        // The lock guards every property; sigaction(2) is the only call made while holding it.
        private let lock = NSLock()
        private var counts: [Int32: Int] = [:]
        /// The disposition before the first stream watched the signal (normally the default).
        private var original: [Int32: sigaction] = [:]
        /// libdispatch's handler, seen when the last stream of a signal ended.
        private var dispatchHandlers: [Int32: sigaction] = [:]

        func watch(_ number: Int32) {
            lock.lock()
            defer { lock.unlock() }
            counts[number, default: 0] += 1
            guard counts[number] == 1 else { return }
            var replacement = dispatchHandlers[number] ?? Self.ignoring
            var previous = sigaction()
            if sigaction(number, &replacement, &previous) == 0 { original[number] = previous }
        }

        func unwatch(_ number: Int32) {
            lock.lock()
            defer { lock.unlock() }
            guard let count = counts[number] else { return }
            guard count <= 1 else {
                counts[number] = count - 1
                return
            }
            counts[number] = nil
            var restored = original.removeValue(forKey: number) ?? Self.defaultAction
            var current = sigaction()
            guard sigaction(number, &restored, &current) == 0 else { return }
            // Neither SIG_DFL (0) nor SIG_IGN (1): the handler libdispatch installed.
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) > 1 {
                dispatchHandlers[number] = current
            }
        }

        private static var ignoring: sigaction {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_IGN
            sigemptyset(&action.sa_mask)
            return action
        }

        private static var defaultAction: sigaction {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_DFL
            sigemptyset(&action.sa_mask)
            return action
        }
    }

    /// The dispatch sources of one stream, cancelled together when the stream ends.
    private final class SourceSet: @unchecked Sendable {
        // Immutable after init; DispatchSource's cancel is thread-safe.
        private let sources: [any DispatchSourceSignal]

        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }

        func cancel() {
            for source in sources { source.cancel() }
        }
    }
}
