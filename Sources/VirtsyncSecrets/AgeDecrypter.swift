import Foundation
import Subprocess
import SystemPackage
import VirtsyncCore

/// Decrypts age files with Debian's `age` tool (`age -d -i IDENTITY`, ciphertext on stdin),
/// as `ssh-keygen` is run for signatures (decision record 0011):
///
/// - the plaintext is kept in memory and used only after age exits 0 (on a damaged file past
///   64 KiB, age has already written the chunks before the damage);
/// - age's standard error is never shown: it quotes the first line of a file that is not age
///   (a plaintext committed by mistake), so failures are fixed messages;
/// - age runs in a session of its own, without a terminal, so an identity protected by a
///   passphrase fails at once instead of waiting for one, and it is killed at the deadline.
struct AgeDecrypter: Sendable {
    let tool: String
    let identity: String
    let timeout: Duration

    /// Finds `age`; nil when it is not installed.
    static func findTool(_ explicit: String?) -> String? {
        let candidates = explicit.map { [$0] } ?? ["/usr/bin/age", "/bin/age", "/usr/local/bin/age"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func decrypt(_ ciphertext: [UInt8]) async -> Result<[UInt8], SecretProblem> {
        let timeout = timeout
        let tool = tool, identity = identity
        do {
            let outcome = try await withThrowingTaskGroup(of: (status: Int32, output: [UInt8], error: String)?.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    options.createSession = true
                    let result = try await Subprocess.run(.path(FilePath(tool)), arguments: ["-d", "-i", identity],
                                                          environment: .custom(["PATH": "/usr/bin:/bin"]),
                                                          platformOptions: options,
                                                          input: .array(ciphertext),
                                                          output: .bytes(limit: SecretFiles.maxSize + 1),
                                                          error: .string(limit: 64 << 10))
                    let status: Int32
                    switch result.terminationStatus {
                    case .exited(let code): status = code
                    case .signaled(let signal): status = 128 + signal
                    }
                    return (status, result.standardOutput, result.standardError ?? "")
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            guard let outcome else { return .failure(SecretProblem("age did not finish within \(timeout)")) }
            guard outcome.status == 0 else { return .failure(SecretProblem(Self.reason(status: outcome.status, error: outcome.error))) }
            guard outcome.output.count <= SecretFiles.maxSize else { return .failure(SecretProblem("its plaintext is larger than 1 MiB")) }
            return .success(outcome.output)
        } catch {
            // The error of a failed output collection may hold part of the plaintext: say what failed, not what it said.
            return .failure(SecretProblem("age could not be run (\(type(of: error)))"))
        }
    }

    /// A fixed message for age's failure; never age's own text.
    static func reason(status: Int32, error: String) -> String {
        if error.contains("no identity matched any of the recipients") {
            return "this host's age identity cannot decrypt it (the file was not encrypted to this host's recipient)"
        }
        if error.contains("passphrase") || error.contains("encrypted identity") {
            return "the age identity is protected by a passphrase; virtsync needs an identity file without one"
        }
        if error.contains("reading identity") || error.contains("identity file") || error.contains("no identities") {
            return "the age identity file could not be used"
        }
        if error.contains("unexpected intro") || error.contains("header") || error.contains("malformed")
            || error.contains("EOF") || error.contains("failed to decrypt") || error.contains("armor") {
            return "the file is damaged or is not an age-encrypted file"
        }
        return "age failed (exit status \(status))"
    }
}
