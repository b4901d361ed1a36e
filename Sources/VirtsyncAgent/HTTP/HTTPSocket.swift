import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The POSIX socket plumbing `HTTPServer` and `HTTPClient` share: addresses, and reads and writes
/// on non-blocking descriptors that give up at a deadline, so no peer can hold a thread forever.
enum HTTPSocket {
    /// How one read ended.
    enum ReadResult {
        /// Bytes were appended to the buffer.
        case data
        /// The peer closed its side: nothing more will come.
        case endOfFile
        /// The deadline passed first.
        case timedOut
        /// The socket failed (the errno text).
        case failed(String)
    }

    /// The text of an errno value, as `strerror` gives it.
    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// `host:port`, with an IPv6 literal in brackets, as operators write addresses.
    static func display(host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Makes `fd` non-blocking (descriptors from `accept4` do not inherit the listener's flag).
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Waits until `fd` is ready for `events` (POLLIN or POLLOUT) or `deadline` passes; true when
    /// ready (an error or hang-up on the socket counts as ready: the next call reports it).
    static func wait(_ fd: Int32, for events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return false }
            let (seconds, attoseconds) = remaining.components
            // Round up so a remaining fraction of a millisecond does not spin with a zero timeout.
            let milliseconds = min(Int64(Int32.max), seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var descriptor = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    /// Reads what is available (at most `maximum` bytes) into `buffer`, waiting until `deadline`.
    static func read(_ fd: Int32, into buffer: inout [UInt8], maximum: Int = 16384,
                     until deadline: ContinuousClock.Instant) -> ReadResult {
        var chunk = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .data
            }
            if count == 0 { return .endOfFile }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                if !wait(fd, for: POLLIN, until: deadline) { return .timedOut }
            default:
                return .failed(errnoText(code))
            }
        }
    }

    /// Writes all of `bytes`, waiting for room until `deadline`; nil when done, else why not.
    /// `MSG_NOSIGNAL` turns a peer that went away into EPIPE instead of a process-killing SIGPIPE.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> String? {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                offset += count
                continue
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                if !wait(fd, for: POLLOUT, until: deadline) { return "timed out" }
            default:
                return errnoText(code)
            }
        }
        return nil
    }

    /// Sets an integer socket option, ignoring failure (every option set here is an optimisation
    /// or a nicety whose absence changes no behaviour a caller relies on).
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// An IPv4 or IPv6 socket address in a `sockaddr_storage`, as `bind`, `connect` and `accept` use.
struct HTTPSocketAddress {
    /// The address, either a `sockaddr_in` or a `sockaddr_in6`.
    var storage = sockaddr_storage()
    /// How many bytes of `storage` are used.
    var length: socklen_t = 0

    /// AF_INET or AF_INET6.
    var family: Int32 { Int32(storage.ss_family) }

    /// An address from a literal: IPv4 (`127.0.0.1`), IPv6 (`::1`, also in brackets), or
    /// `localhost` (127.0.0.1). Nil for anything else: listening addresses are never looked up.
    init?(literal host: String, port: Int) {
        var text = host
        if text.hasPrefix("[") && text.hasSuffix("]") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        if text == "localhost" { text = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin_addr = v4
            withUnsafeBytes(of: address) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin6_addr = v6
            withUnsafeBytes(of: address) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            return nil
        }
    }

    /// An address `getaddrinfo`, `accept` or `getsockname` filled in.
    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// Why a host name gave no address (the resolver's words).
    struct ResolveFailure: Error {
        var reason: String
    }

    /// Every address `host` resolves to for a TCP connection, in the resolver's order of preference.
    static func resolve(host: String, port: Int) throws(ResolveFailure) -> [HTTPSocketAddress] {
        if let literal = HTTPSocketAddress(literal: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else { throw ResolveFailure(reason: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [HTTPSocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            if let source = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) {
                    $0.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(info.ai_addrlen)))
                }
                addresses.append(HTTPSocketAddress(storage: storage, length: info.ai_addrlen))
            }
            entry = info.ai_next
        }
        guard !addresses.isEmpty else { throw ResolveFailure(reason: "no IPv4 or IPv6 address") }
        return addresses
    }

    /// The port, in host byte order.
    var port: Int {
        withUnsafeBytes(of: storage) { raw in
            family == AF_INET6
                ? Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
                : Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// The IP address as text (`127.0.0.1`, `::1`); an IPv4-mapped IPv6 address as plain IPv4.
    var ipText: String {
        if let v4 = mappedIPv4 { return Self.text(AF_INET, v4) }
        return withUnsafeBytes(of: storage) { raw in
            family == AF_INET6 ? Self.text(AF_INET6, raw.load(as: sockaddr_in6.self).sin6_addr)
                               : Self.text(AF_INET, raw.load(as: sockaddr_in.self).sin_addr)
        }
    }

    /// Whether the address is a loopback one: 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6.
    var isLoopback: Bool {
        if let v4 = mappedIPv4 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        if family == AF_INET {
            let v4 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self).sin_addr }
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        guard family == AF_INET6 else { return false }
        let bytes = withUnsafeBytes(of: storage) { raw in
            withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
        }
        return bytes == Array(repeating: 0, count: 15) + [1]
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), nil otherwise.
    private var mappedIPv4: in_addr? {
        guard family == AF_INET6 else { return nil }
        let bytes = withUnsafeBytes(of: storage) { raw in
            withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
        }
        guard bytes.prefix(12) == Array(repeating: 0, count: 10) + [0xff, 0xff] else { return nil }
        var v4 = in_addr()
        withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: bytes[12..<16]) }
        return v4
    }

    private static func text<Address>(_ family: Int32, _ address: Address) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted = withUnsafeBytes(of: address) { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard converted else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the address as the `sockaddr` pointer the socket calls take.
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// A value behind a lock. `@unchecked Sendable` is sound because `value` is private and every
/// read and write of it happens inside `withLock`, holding `lock`; `Value` is itself Sendable,
/// so nothing handed out of `withLock` can be shared unsafely.
final class HTTPLockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    /// A box holding `value`.
    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` on the value while holding the lock.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
