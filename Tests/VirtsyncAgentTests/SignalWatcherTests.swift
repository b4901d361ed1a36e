import Glibc
import Testing
import VirtsyncAgent

@Suite("signal watcher")
struct SignalWatcherTests {
    @Test("a signal sent to the process arrives on the stream instead of killing it")
    func receivesSignal() async {
        let stream = SignalWatcher.signals([SIGHUP, SIGUSR1])
        let received = await Self.firstSignal(of: stream, sending: SIGUSR1)
        #expect(received == SIGUSR1)
        // The stream stays alive until the sender has stopped: once it ends, SIGUSR1 kills again.
        withExtendedLifetime(stream) {}
    }

    @Test("a signal watched again after its first stream ended still arrives")
    func watchAgain() async {
        for round in 1...2 {
            let stream = SignalWatcher.signals([SIGUSR2])
            let received = await Self.firstSignal(of: stream, sending: SIGUSR2)
            #expect(received == SIGUSR2, "round \(round)")
            withExtendedLifetime(stream) {}
        }
    }

    @Test("ending the stream gives the signal its default action back")
    func restoresDefault() {
        do {
            let stream = SignalWatcher.signals([SIGWINCH])
            #expect(!Self.hasDefaultAction(SIGWINCH))
            withExtendedLifetime(stream) {}
        }
        #expect(Self.hasDefaultAction(SIGWINCH))
    }

    @Test("a signal watched by two streams keeps being handled until both end")
    func sharedSignal() {
        let first = SignalWatcher.signals([SIGURG])
        do {
            let second = SignalWatcher.signals([SIGURG])
            withExtendedLifetime(second) {}
        }
        #expect(!Self.hasDefaultAction(SIGURG))
        withExtendedLifetime(first) {}
    }

    /// Sends `signal` every 50 ms until the stream yields (the dispatch source is registered
    /// asynchronously, so a single early signal could be ignored), for at most ten seconds.
    private static func firstSignal(of stream: AsyncStream<Int32>, sending signal: Int32) async -> Int32? {
        let receiver = Task {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        let sender = Task {
            for _ in 0..<200 {
                kill(getpid(), signal)
                do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
            }
            receiver.cancel()
        }
        let received = await receiver.value
        sender.cancel()
        await sender.value
        return received
    }

    private static func hasDefaultAction(_ signal: Int32) -> Bool {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return action.__sigaction_handler.sa_handler == nil
    }
}
