import Foundation
import VirtsyncTestSupport
import Testing
import VirtsyncEngine
import VirtsyncSpec
@testable import VirtsyncGit

/// An HTTPS server on 127.0.0.1 with a certificate of its own, which asks for Basic credentials
/// and logs the Authorization header it receives. It serves no repository: the tests are about
/// what reaches the server (the certificate check, the token), not about git over HTTP.
final class TLSProbeServer {
    let port: Int
    let certificate: String
    let logPath: String
    private let child: ChildProcess

    init(directory: String) async throws {
        certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        // Name in the CN only: libgit2's mbedTLS matches a host name against DNS names and the CN,
        // not against IP addresses in the subjectAltName.
        let made = try await Command.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                                                "-days", "2", "-subj", "/CN=127.0.0.1"])
        guard made.succeeded else { throw FixtureError(command: ["openssl"], stderr: made.stderr) }
        let script = directory + "/probe.py"
        try """
        import http.server, ssl, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(sys.argv[2], "a") as log:
                    log.write("AUTH %s\\n" % self.headers.get("Authorization"))
                if not self.headers.get("Authorization"):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="specs"')
                    self.end_headers()
                    return
                self.send_response(403)
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """.write(toFile: script, atomically: true, encoding: .utf8)
        port = try LoopbackPort.free()
        logPath = directory + "/auth.log"
        child = try ChildProcess(executable: "/usr/bin/python3", arguments: [script, String(port), logPath, certificate, key],
                                 environment: ["PATH": "/usr/bin:/bin"], outputPath: directory + "/server.out")
        let deadline = Date().addingTimeInterval(10)
        while !LoopbackPort.accepts(port) {
            guard Date() < deadline else { throw FixtureError(command: ["probe.py"], stderr: "the TLS probe server did not start") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    func stop() { child.terminate() }
}

@Suite("https:// remotes", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
                                                  && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
struct HTTPSTests {
    @Test("an untrusted certificate is refused before any credential is sent; a trusted one gets the token from a file, and it never shows")
    func certificateThenToken() async throws {
        let fixture = try await GitFixture()
        let server = try await TLSProbeServer(directory: try fixture.directory.makeDirectory("tls"))
        defer { server.stop() }
        let tokenFile = try fixture.scratchPath("token")
        try "s3cr3t-token-value\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let url = "https://127.0.0.1:\(server.port)/ops/specs.git"

        let untrusted = try makeCache(fixture, url: url, credentials: GitCredentials(secret: try Secret.fromFile(tokenFile)))
        #expect { try untrusted.fetch() } throws: { ($0 as? GitError)?.kind == .hostVerification && "\($0)".contains("TLS certificate") }
        #expect(!server.log.contains("AUTH"), "nothing was sent to an unverified server")

        // The same server trusted through its own certificate (libgit2's CA setting is per process;
        // this suite runs serialized and is the only one that sets it).
        let trusted = try makeCache(fixture, url: url,
                                    credentials: GitCredentials(username: "deploy", secret: try Secret.fromFile(tokenFile), caFile: server.certificate))
        var message = ""
        #expect { try trusted.fetch() } throws: { error in
            message = "\(error)"
            return true
        }
        let expected = "Basic " + Data("deploy:s3cr3t-token-value".utf8).base64EncodedString()
        #expect(server.log.contains("AUTH \(expected)"), "\(server.log)")
        #expect(!message.contains("s3cr3t") && !message.isEmpty)
        Libgit2.trust(caFile: "/etc/ssl/certs/ca-certificates.crt")
    }

    @Test("a token file readable by others is refused")
    func tokenFileMode() async throws {
        let fixture = try await GitFixture()
        let path = try fixture.scratchPath("open-token")
        try "t\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect { try Secret.fromFile(path) } throws: { "\($0)".contains("readable by others") }
    }
}
