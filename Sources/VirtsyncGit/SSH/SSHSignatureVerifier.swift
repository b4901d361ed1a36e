import Foundation
import Subprocess
import SystemPackage
import VirtsyncEngine

/// Verifies SSH commit signatures (`git commit -S` with `gpg.format=ssh`) against an OpenSSH
/// allowed-signers file, with OpenSSH's own `ssh-keygen -Y`, as git does: the principal is the
/// one the file lists for the signing key (`find-principals`), the namespace is `git`, and
/// the key must be valid at the commit's committer time (`valid-after`/`valid-before`).
public struct SSHSignatureVerifier: SignatureVerifier {
    public let allowedSigners: String
    let sshKeygen: String
    /// How long one `ssh-keygen` may take before it is killed and the commit refused.
    let timeout: Duration

    /// A verifier trusting the keys of `allowedSigners`. Fails when the file or `ssh-keygen`
    /// is missing, so a typo never turns verification off.
    public init(allowedSigners: String, sshKeygen: String? = nil, timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isReadableFile(atPath: allowedSigners) else {
            throw GitError(.other, "cannot read the allowed-signers file \(allowedSigners)")
        }
        let candidates = sshKeygen.map { [$0] } ?? ["/usr/bin/ssh-keygen", "/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw GitError(.other, "ssh-keygen (OpenSSH) is needed to verify signatures; install openssh-client")
        }
        self.allowedSigners = allowedSigners
        self.sshKeygen = tool
        self.timeout = timeout
    }

    public func verify(_ signature: CommitSignature?, of commit: CommitInfo) async throws -> Signer {
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

        let find = try await run([sshKeygen, "-Y", "find-principals", "-f", allowedSigners, "-s", signatureFile, time], input: [])
        let principals = find.stdout.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard find.status == 0, let principal = principals.first else {
            throw GitError(.other, "\(what) is signed by a key that is not trusted: not in \(allowedSigners) (or not valid at the commit's time)")
        }
        let check = try await run([sshKeygen, "-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git", "-s", signatureFile, time],
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

    /// Runs `ssh-keygen` (swift-subprocess: no shell, output collected up to a limit) and kills
    /// it when it outlives `timeout`: a verification that hangs refuses the commit instead of
    /// stalling the agent's pass.
    private func run(_ arguments: [String], input: [UInt8]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let executable = FilePath(arguments[0])
        let rest = Arguments(Array(arguments.dropFirst()))
        let timeout = timeout
        return try await withThrowingTaskGroup(of: (status: Int32, stdout: String, stderr: String)?.self) { group in
            group.addTask {
                let result = try await Subprocess.run(.path(executable), arguments: rest, input: .array(input),
                                                      output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
                let status: Int32
                switch result.terminationStatus {
                case .exited(let code): status = code
                case .signaled(let signal): status = 128 + signal
                }
                return (status, result.standardOutput, result.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let finished = first else {
                throw GitError(.timeout, "ssh-keygen did not finish within \(timeout); signature verification gave up")
            }
            return finished
        }
    }
}
