import Foundation
import Testing
import VirtsyncEngine

@Suite("file watchdog")
struct FileWatchdogTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Duration = .zero
        func advance(_ by: Duration) { lock.withLock { value += by } }
        var now: Duration { lock.withLock { value } }
    }

    @Test("every pet at least the minimum interval apart writes one byte (never 'V'); closer ones are skipped")
    func pets() throws {
        let path = NSTemporaryDirectory() + "virtsync-watchdog-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = Clock()
        let watchdog = try FileWatchdog(path: path, timeout: .seconds(6), minimumInterval: .milliseconds(500), now: { clock.now })
        for _ in 0..<10 {
            try watchdog.pet()
            clock.advance(.milliseconds(200))
        }
        // Pets at 0, 0.6 s, 1.2 s and 1.8 s pass the 500 ms spacing.
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written.count == 4)
        #expect(!written.contains(UInt8(ascii: "V")), "never the magic close character")
    }

    @Test("a device that cannot be opened is an error naming it")
    func missing() {
        #expect {
            try FileWatchdog(path: "/nonexistent/watchdog", timeout: .seconds(6))
        } throws: { error in
            "\(error)" == "watchdog /nonexistent/watchdog: No such file or directory"
        }
    }
}
