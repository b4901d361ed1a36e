import Foundation

/// An SSH key pair on disk, generated with `ssh-keygen` without a passphrase.
public struct SSHKey: Sendable {
    /// The key algorithms the fixtures can generate.
    public enum KeyType: String, Sendable {
        case ed25519, ecdsa, rsa
    }

    /// The private key file (mode 0600).
    public let privateKeyPath: String
    /// The public key line as written to the `.pub` file: `<algorithm> <base64> <comment>`.
    public let publicKey: String

    /// The public key file (`privateKeyPath` + `.pub`).
    public var publicKeyPath: String { privateKeyPath + ".pub" }

    /// The key algorithm name, e.g. `ssh-ed25519`.
    public var algorithm: String { field(0) }

    /// The base64 text of the public key blob (second field of the `.pub` line).
    public var publicKeyBase64: String { field(1) }

    /// The raw public key blob in SSH wire format, as a server presents its host key.
    public var publicKeyBlob: [UInt8] {
        guard let data = Data(base64Encoded: publicKeyBase64) else {
            fatalError("ssh-keygen wrote a public key that is not base64: \(publicKey)")
        }
        return Array(data)
    }

    /// `<algorithm> <base64>`, without the comment (for authorized_keys and known_hosts lines).
    public var keyText: String { "\(algorithm) \(publicKeyBase64)" }

    /// A line of an OpenSSH ALLOWED SIGNERS file trusting this key for git signatures of `principal`.
    public func allowedSignersLine(principal: String) -> String {
        "\(principal) namespaces=\"git\" \(keyText)"
    }

    /// A `known_hosts` line for `host` (use `[host]:port` for a port other than 22).
    public func knownHostsLine(host: String) -> String { "\(host) \(keyText)" }

    /// Generates a new key pair at `path` (and `path.pub`); both must not exist yet.
    ///
    /// - Parameter pem: write the private key in the legacy PEM format instead of OpenSSH's own
    ///   (ignored by ssh-keygen for ed25519, which has no PEM form).
    public static func generate(at path: String, type: KeyType = .ed25519, comment: String = "virtsync-test",
                                pem: Bool = false) async throws -> SSHKey {
        var arguments = ["-q", "-t", type.rawValue, "-N", "", "-C", comment, "-f", path]
        if pem { arguments += ["-m", "PEM"] }
        try await Command.check("ssh-keygen", arguments)
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        return SSHKey(privateKeyPath: path, publicKey: line.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func field(_ index: Int) -> String {
        let fields = publicKey.split(separator: " ", omittingEmptySubsequences: true)
        return index < fields.count ? String(fields[index]) : ""
    }
}
