import Foundation
import VirtsyncTestSupport

/// A single-member etcd on 127.0.0.1, with free ports and a data directory of its own, for one
/// test; stopped (and its directory removed) by `stop()` or when released.
final class EtcdServer: @unchecked Sendable {
    /// The etcd executable on PATH; nil when etcd is not installed.
    static let executable: String? = try? Command.locate("etcd")

    /// How clients reach it: `127.0.0.1:<port>`.
    let endpoint: String
    /// Its directory: the data directory `data` and the log `etcd.log`.
    let directory: ScratchDirectory
    // Touched only by the test that started the server.
    private let process: ChildProcess

    private init(endpoint: String, directory: ScratchDirectory, process: ChildProcess) {
        self.endpoint = endpoint
        self.directory = directory
        self.process = process
    }

    deinit { process.terminate() }

    /// Stops etcd (SIGTERM, then SIGKILL after 5 s).
    func stop() { process.terminate() }

    /// The TLS files of a server started with `tls`.
    struct TLSFiles {
        var certificate: String
        var key: String
        var ca: String
    }

    /// Starts etcd and returns once it serves clients. With `tls`, clients must speak TLS and
    /// present a certificate `tls.ca` signed. Retries with other ports when one was taken meanwhile.
    static func start(tls: TLSFiles? = nil) async throws -> EtcdServer {
        guard let executable else { throw FixtureError(command: ["etcd"], stderr: "etcd is not installed") }
        var lastLog = ""
        for _ in 0..<3 {
            let directory = try ScratchDirectory(prefix: "etcd")
            let clientPort = try LoopbackPort.free(), peerPort = try LoopbackPort.free()
            let scheme = tls == nil ? "http" : "https"
            let client = "\(scheme)://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
            var arguments = [
                "--name", "test", "--data-dir", directory.path("data"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "test=\(peer)", "--initial-cluster-state", "new",
                "--initial-cluster-token", "virtsync-test-\(UUID().uuidString)",
            ]
            if let tls {
                arguments += ["--cert-file", tls.certificate, "--key-file", tls.key,
                              "--trusted-ca-file", tls.ca, "--client-cert-auth"]
            }
            let log = directory.path("etcd.log")
            let process = try ChildProcess(executable: executable, arguments: arguments,
                                           environment: ["PATH": "/usr/bin:/bin"], outputPath: log)
            let server = EtcdServer(endpoint: "127.0.0.1:\(clientPort)", directory: directory, process: process)
            let deadline = ContinuousClock.now + .seconds(30)
            while process.isRunning && ContinuousClock.now < deadline {
                lastLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if lastLog.contains("ready to serve client requests") { return server }
                try await Task.sleep(for: .milliseconds(50))
            }
            server.stop()
        }
        throw FixtureError(command: [executable], stderr: "etcd did not become ready; its log:\n\(lastLog)")
    }
}
