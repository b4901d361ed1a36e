import Foundation
import VirtsyncEtcd
import VirtsyncTestSupport

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Polls `condition` every 100 ms until it holds or `timeout` passes; returns its last answer.
func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// The events of `stream` until there are at least `count`, or until `timeout` (then what came).
@available(macOS 15.0, *)
func collect(_ stream: AsyncThrowingStream<[EtcdClient.WatchEvent], any Error>, count: Int,
             within timeout: Duration) async throws -> [EtcdClient.WatchEvent] {
    try await withThrowingTaskGroup(of: [EtcdClient.WatchEvent]?.self) { group in
        group.addTask {
            var events: [EtcdClient.WatchEvent] = []
            for try await batch in stream {
                events += batch
                if events.count >= count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next().flatMap { $0 } ?? []
    }
}

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate it signed, made
/// with openssl in `directory`.
struct TestCertificates {
    let server: EtcdServer.TLSFiles
    let clientCertificate: String
    let clientKey: String

    init(in directory: ScratchDirectory) async throws {
        let dir = directory.path
        func ecKey(_ name: String) async throws {
            try await Command.check("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                "-out", "\(dir)/\(name).key"])
        }
        try await ecKey("ca")
        try await Command.check("openssl", ["req", "-x509", "-new", "-key", "\(dir)/ca.key", "-out", "\(dir)/ca.pem",
                                            "-days", "1", "-subj", "/CN=virtsync etcd test CA"])
        for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            try await ecKey(name)
            try await Command.check("openssl", ["req", "-new", "-key", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr",
                                                "-subj", "/CN=virtsync-\(name)"])
            try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=\(usage)\n"
                .write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
            try await Command.check("openssl", ["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.pem",
                                                "-CAkey", "\(dir)/ca.key", "-CAcreateserial", "-days", "1",
                                                "-extfile", "\(dir)/\(name).ext", "-out", "\(dir)/\(name).pem"])
        }
        server = EtcdServer.TLSFiles(certificate: "\(dir)/server.pem", key: "\(dir)/server.key", ca: "\(dir)/ca.pem")
        clientCertificate = "\(dir)/client.pem"
        clientKey = "\(dir)/client.key"
    }
}
