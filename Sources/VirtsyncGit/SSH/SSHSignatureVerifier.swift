import Foundation
import VirtsyncEngine

/// Verifies SSH commit signatures (`git commit -S` with `gpg.format=ssh`) against an OpenSSH
/// allowed-signers file, with OpenSSH's own `ssh-keygen -Y`, as git does: the principal is the
/// one the file lists for the signing key (`find-principals`), the namespace is `git`, and
/// the key must be valid at the commit's committer time (`valid-after`/`valid-before`).
public struct SSHSignatureVerifier: SignatureVerifier {
    public let allowedSigners: String
    let sshKeygen: String

    /// A verifier trusting the keys of `allowedSigners`. Fails when the file or `ssh-keygen`
    /// is missing, so a typo never turns verification off.
    public init(allowedSigners: String, sshKeygen: String? = nil) throws {
        guard FileManager.default.isReadableFile(atPath: allowedSigners) else {
            throw GitError(.other, "cannot read the allowed-signers file \(allowedSigners)")
        }
        let candidates = sshKeygen.map { [$0] } ?? ["/usr/bin/ssh-keygen", "/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw GitError(.other, "ssh-keygen (OpenSSH) is needed to verify signatures; install openssh-client")
        }
        self.allowedSigners = allowedSigners
        self.sshKeygen = tool
    }

    public func verify(_ signature: CommitSignature?, of commit: CommitInfo) throws -> Signer {
        let what = "commit \(commit.id.short) (\"\(commit.summary.prefix(60))\" by \(commit.authorEmail))"
        guard let signature else {
            throw GitError(.other, "\(what) is not signed")
        }
        guard signature.isSSH else {
            throw GitError(.other, "\(what) has a signature that is not an SSH signature (OpenPGP or X.509); only SSH signatures can be verified")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-sig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signatureFile = directory + "/signature"
        guard FileManager.default.createFile(atPath: signatureFile, contents: Data(signature.signature.utf8)) else {
            throw GitError(.other, "cannot write a temporary file in \(directory)")
        }
        let time = "-Overify-time=" + Self.verifyTime(commit.time)

        let find = try run([sshKeygen, "-Y", "find-principals", "-f", allowedSigners, "-s", signatureFile, time], input: [])
        let principals = find.stdout.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard find.status == 0, let principal = principals.first else {
            throw GitError(.other, "\(what) is signed by a key that is not trusted: not in \(allowedSigners) (or not valid at the commit's time)")
        }
        let check = try run([sshKeygen, "-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git", "-s", signatureFile, time],
                            input: signature.payload)
        guard check.status == 0 else {
            let detail = (check.stderr + check.stdout).split(whereSeparator: \.isNewline).first.map(String.init) ?? "verification failed"
            throw GitError(.other, "\(what) has a bad signature (\(detail))")
        }
        return Signer(principal: principal, key: Self.keyDescription(check.stdout + check.stderr))
    }

    /// `ED25519 key SHA256:…` from ssh-keygen's "Good "git" signature for … with ED25519 key SHA256:…".
    static func keyDescription(_ output: String) -> String {
        guard let with = output.range(of: " with ") else { return "" }
        return String(output[with.upperBound...].prefix { !$0.isNewline })
    }

    /// `YYYYMMDDHHMMSSZ` in UTC, the form ssh-keygen's `verify-time` takes.
    static func verifyTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d%02d%02d%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    private func run(_ arguments: [String], input: [UInt8]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
