import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

#if canImport(Glibc)
import Glibc
#endif

@Suite("connections and errors")
struct ConnectionTests {
    @Test("libvirt's error codes map to the port's classes")
    func classification() {
        #expect(LibvirtErrors.classify(code: 42, domain: 10) == .notFound)
        #expect(LibvirtErrors.classify(code: 43, domain: 19) == .notFound)
        #expect(LibvirtErrors.classify(code: 49, domain: 18) == .notFound)
        #expect(LibvirtErrors.classify(code: 50, domain: 18) == .notFound)
        #expect(LibvirtErrors.classify(code: 39, domain: 7) == .unreachable)
        #expect(LibvirtErrors.classify(code: 5, domain: 0) == .unreachable)
        #expect(LibvirtErrors.classify(code: 45, domain: 46) == .unreachable)
        #expect(LibvirtErrors.classify(code: 38, domain: 7) == .unreachable)
        #expect(LibvirtErrors.classify(code: 38, domain: 18) == .rejected)
        #expect(LibvirtErrors.classify(code: 68, domain: 0) == .timeout)
        #expect(LibvirtErrors.classify(code: 27, domain: 20) == .rejected)
        #expect(LibvirtErrors.classify(code: 87, domain: 10) == .rejected)
    }

    @Test("after libvirt is set up, a write to a closed socket is an EPIPE error, not a SIGPIPE that kills the process")
    func brokenPipeIsAnError() async throws {
        _ = try await LibvirtConnector().connect(host: "local", uri: "test:///default")
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        close(fds[1])
        defer { close(fds[0]) }
        // Without SIGPIPE ignored this write ends the test process with signal 13.
        let written = write(fds[0], "x", 1)
        #expect(written == -1)
        #expect(errno == EPIPE)
    }

    @Test("a password in the URI never reaches the session's URI")
    func redaction() {
        #expect(URIRedaction.redact("qemu+ssh://root:s3cret@host/system") == "qemu+ssh://root@host/system")
        #expect(URIRedaction.password(in: "qemu+ssh://root:s3cret@host/system") == "s3cret")
        #expect(URIRedaction.redact("qemu+ssh://root@host/system") == "qemu+ssh://root@host/system")
        #expect(URIRedaction.redact("qemu:///system") == "qemu:///system")
        #expect(URIRedaction.password(in: "qemu:///system") == nil)
    }

    @Test("a host that refuses the connection is unreachable, and the password is not in the error")
    func refused() async throws {
        let error = await expectHypervisorError(.unreachable) {
            _ = try await LibvirtConnector().connect(host: "h1", uri: "qemu+tcp://admin:hunter2@127.0.0.1:1/system")
        }
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.description.contains("h1") == true)
        #expect(error?.libvirtCode != 0)
    }

    @Test("a URI no driver handles is unreachable")
    func unknownDriver() async throws {
        await expectHypervisorError(.unreachable) {
            _ = try await LibvirtSession.connect(uri: "nosuchdriver:///system")
        }
    }

    @Test("a host that accepts but never answers times out at the deadline")
    func silentHost() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let start = ContinuousClock.now
        await expectHypervisorError(.timeout) {
            _ = try await LibvirtConnector(options: LibvirtSessionOptions(connectTimeout: .milliseconds(500)))
                .connect(host: "h1", uri: "qemu+tcp://127.0.0.1:\(listener.port)/system")
        }
        // Without the deadline the connect would wait for libvirt's handshake forever. The bound only
        // has to tell "ended" from "hung": a loaded 2-core machine was seen taking 6.7 s for the
        // 500 ms deadline (the thread that runs the timer must get the CPU first), and 39 s with a
        // second test process beside this one (this task resumes on a cooperative pool that other
        // suites keep busy). Hung is forever: two minutes tells them apart.
        #expect(ContinuousClock.now - start < .seconds(120))
    }

    @Test("the session's URI is the one it was opened with")
    func sessionURI() async throws {
        #expect(try await Fixture.session().uri == Fixture.nodeURI)
    }
}

/// A TCP socket on 127.0.0.1 that accepts connections (via the kernel's backlog) and never
/// answers: a frozen libvirtd, as far as the client can tell.
private final class SilentListener {
    let port: UInt16
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = UInt16(bigEndian: address.sin_port)
    }

    func close() { _ = Glibc.close(descriptor) }
}
