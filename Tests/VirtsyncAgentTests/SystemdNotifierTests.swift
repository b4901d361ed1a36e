import Foundation
import Glibc
import Testing
import VirtsyncAgent
import VirtsyncTestSupport

@Suite("systemd notification")
struct SystemdNotifierTests {
    @Test("ready, status, stopping and watchdog arrive as the exact sd_notify datagrams on a socket path")
    func datagramsOnPath() throws {
        let scratch = try ScratchDirectory(prefix: "notify")
        let receiver = try DatagramReceiver(address: scratch.path("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        #expect(notifier.isEnabled)

        #expect(notifier.ready(status: "reconciling every 60s"))
        #expect(try receiver.receive() == "READY=1\nSTATUS=reconciling every 60s")
        #expect(notifier.ready())
        #expect(try receiver.receive() == "READY=1")
        #expect(notifier.status("applied abc123\nnext in 60s"))
        #expect(try receiver.receive() == "STATUS=applied abc123 next in 60s")
        #expect(notifier.stopping())
        #expect(try receiver.receive() == "STOPPING=1")
        #expect(notifier.watchdog())
        #expect(try receiver.receive() == "WATCHDOG=1")
        #expect(notifier.send("EXTEND_TIMEOUT_USEC=5000000"))
        #expect(try receiver.receive() == "EXTEND_TIMEOUT_USEC=5000000")
    }

    @Test("reloading sends RELOADING=1 with the monotonic clock")
    func reloading() throws {
        let scratch = try ScratchDirectory(prefix: "notify")
        let receiver = try DatagramReceiver(address: scratch.path("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        #expect(notifier.reloading())
        let lines = try receiver.receive().split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        #expect(lines.last.map { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)) != nil } == true)
    }

    @Test("an abstract socket name (@name) reaches a socket bound in the abstract namespace")
    func abstractNamespace() throws {
        let receiver = try DatagramReceiver(address: "@virtsync-notify-test-\(UUID().uuidString)")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        #expect(notifier.ready(status: "up"))
        #expect(try receiver.receive() == "READY=1\nSTATUS=up")
    }

    @Test("without NOTIFY_SOCKET the notifier is disabled and sending does nothing")
    func disabledOutsideSystemd() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.send("READY=1"))
        #expect(!notifier.ready(status: "up"))
        #expect(!notifier.watchdog())
        #expect(notifier.watchdogInterval == nil)
    }

    @Test("a relative NOTIFY_SOCKET is not an address systemd would give, so it is ignored")
    func relativeSocketIgnored() {
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "run/notify"]).isEnabled)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "@"]).isEnabled)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]).isEnabled)
    }

    @Test("sending to a socket nobody listens on reports failure instead of throwing")
    func sendFailsQuietly() throws {
        let scratch = try ScratchDirectory(prefix: "notify")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": scratch.path("missing.sock")])
        #expect(notifier.isEnabled)
        #expect(!notifier.ready())
    }

    @Test("WATCHDOG_USEC gives the watchdog interval, and the ping interval is half of it")
    func watchdogInterval() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "60000000"])
        #expect(notifier.watchdogInterval == .seconds(60))
        #expect(notifier.watchdogPingInterval == .seconds(30))
        let own = SystemdNotifier(environment: ["WATCHDOG_USEC": "1500000", "WATCHDOG_PID": "\(getpid())"])
        #expect(own.watchdogInterval == .milliseconds(1500))
    }

    @Test("a watchdog meant for another process, or a malformed one, is not ours",
          arguments: [["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "\(getpid() == 1 ? 2 : 1)"],
                      ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "self"],
                      ["WATCHDOG_USEC": "0"],
                      ["WATCHDOG_USEC": "-5"],
                      ["WATCHDOG_USEC": "60s"],
                      ["WATCHDOG_PID": "\(getpid())"]])
    func watchdogNotOurs(_ environment: [String: String]) {
        #expect(SystemdNotifier(environment: environment).watchdogInterval == nil)
    }
}

/// A SOCK_DGRAM socket bound at a path or an abstract name (`@name`), standing in for systemd.
final class DatagramReceiver {
    let address: String
    private let descriptor: Int32

    init(address: String) throws {
        self.address = address
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ReceiverError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var name = Array(address.utf8)
        let abstract = address.hasPrefix("@")
        if abstract { name[0] = 0 }
        guard name.count < MemoryLayout.size(ofValue: socketAddress.sun_path) else {
            close(descriptor)
            throw ReceiverError("address too long: \(address)")
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw ReceiverError("bind \(address): errno \(code)")
        }
    }

    deinit { close(descriptor) }

    /// The next datagram, as text; throws after five seconds without one.
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw ReceiverError("recv: errno \(errno)") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

struct ReceiverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
