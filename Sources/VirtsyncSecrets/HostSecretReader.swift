import Crypto
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// Where a host keeps what secrets need: the directory of host files, the age identity and the
/// digest key. From the agent configuration's `secrets`, or the CLI's options.
public struct SecretSettings: Sendable, Hashable {
    /// Default directory of host files.
    public static let defaultDirectory = "/etc/virtsync/secrets"
    /// Default age identity (used when it exists).
    public static let defaultIdentity = "/etc/virtsync/age-identity.txt"
    /// Default digest key (created when missing).
    public static let defaultDigestKey = "/etc/virtsync/secret-digest.key"

    public var directory: String
    /// The age identity file; nil: age files cannot be read here.
    public var ageIdentity: String?
    public var digestKey: String
    /// The `age` executable; nil finds it in /usr/bin, /bin or /usr/local/bin.
    public var ageTool: String?
    /// How long one decryption may take.
    public var timeout: Duration

    public init(directory: String = SecretSettings.defaultDirectory, ageIdentity: String? = nil,
                digestKey: String = SecretSettings.defaultDigestKey, ageTool: String? = nil, timeout: Duration = .seconds(10)) {
        self.directory = directory
        self.ageIdentity = ageIdentity
        self.digestKey = digestKey
        self.ageTool = ageTool
        self.timeout = timeout
    }
}

/// The secret reader of a host: files under the secrets directory, age files decrypted with the
/// host's identity (each ciphertext once while the identity file is unchanged), the digest key
/// from its file (made, 32 random bytes, mode 0600, when missing).
public actor HostSecretReader: SecretReader {
    public let settings: SecretSettings
    /// Plaintexts by the SHA-256 of their ciphertext and the identity file's state.
    private var decrypted: [String: SecretBytes] = [:]

    public init(settings: SecretSettings) {
        self.settings = settings
    }

    public func read(_ references: [SecretReference]) async -> [String: Result<SecretBytes, SecretProblem>] {
        var out: [String: Result<SecretBytes, SecretProblem>] = [:]
        for reference in references where out[reference.name] == nil {
            switch reference.source {
            case .host(let path): out[reference.name] = readHostFile(path).map(SecretBytes.init)
            case .age: out[reference.name] = await decrypt(reference)
            }
        }
        return out
    }

    public func digestKey() async -> Result<[UInt8], SecretProblem> {
        let path = settings.digestKey
        if !FileManager.default.fileExists(atPath: path) {
            if let problem = Self.createKey(at: path) { return .failure(SecretProblem(problem)) }
        }
        return SecretFiles.read(path, what: "the digest key").flatMap { bytes in
            bytes.count >= 16 ? .success(bytes) : .failure(SecretProblem("the digest key \(path) is shorter than 16 bytes"))
        }
    }

    /// A file under the secrets directory, never outside it (after symlinks), never the
    /// identity or the digest key.
    private func readHostFile(_ relative: String) -> Result<[UInt8], SecretProblem> {
        guard let directory = SecretFiles.canonical(settings.directory) else {
            return .failure(SecretProblem("the secrets directory \(settings.directory) does not exist on this host"))
        }
        let joined = directory + "/" + relative
        guard let path = SecretFiles.canonical(joined) else {
            return .failure(SecretProblem("\(joined) does not exist on this host"))
        }
        guard path.hasPrefix(directory + "/") else {
            return .failure(SecretProblem("\(joined) leads outside the secrets directory \(directory)"))
        }
        let forbidden = [settings.ageIdentity, settings.digestKey].compactMap { $0.flatMap(SecretFiles.canonical) }
        guard !forbidden.contains(path) else {
            return .failure(SecretProblem("\(joined) is the host's age identity or digest key, which no spec may use"))
        }
        return SecretFiles.read(path, what: "the secret file")
    }

    private func decrypt(_ reference: SecretReference) async -> Result<SecretBytes, SecretProblem> {
        guard let identity = settings.ageIdentity else {
            return .failure(SecretProblem("no age identity is configured on this host (secrets.ageIdentity, or --age-identity)"))
        }
        if let problem = SecretFiles.problem(identity, what: "the age identity") { return .failure(SecretProblem(problem)) }
        guard let tool = AgeDecrypter.findTool(settings.ageTool) else {
            return .failure(SecretProblem("the age tool is not installed (Debian: apt-get install age)"))
        }
        var info = stat()
        _ = stat(identity, &info)
        let cacheKey = Digest.sha256Hex(reference.ciphertext) + "|\(identity)|\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        if let cached = decrypted[cacheKey] { return .success(cached) }
        let result = await AgeDecrypter(tool: tool, identity: identity, timeout: settings.timeout).decrypt(reference.ciphertext)
        if case .success(let bytes) = result { decrypted[cacheKey] = SecretBytes(bytes) }
        return result.map(SecretBytes.init)
    }

    /// Writes a new random key (O_EXCL, mode 0600); the message when that failed.
    static func createKey(at path: String) -> String? {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                return "the digest key \(path) is missing and its directory cannot be made"
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            return errno == EEXIST ? nil : "the digest key \(path) is missing and cannot be made (\(String(cString: strerror(errno))))"
        }
        defer { close(fd) }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == key.count, fsync(fd) == 0 else {
            unlink(path)
            return "the digest key \(path) could not be written"
        }
        return nil
    }
}
