import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSecrets
import VirtsyncTestSupport

/// The host's secret reader on real files and with the real `age` tool (Debian's `age`, which
/// `scripts/install-deps.sh` installs).
@Suite("host secret reader")
struct HostSecretReaderTests {
    /// A secrets directory, an age identity and its recipient, in a scratch folder.
    struct Host {
        let scratch: ScratchDirectory
        let directory: String
        let identity: String
        let recipient: String
        var settings: SecretSettings { SecretSettings(directory: directory, ageIdentity: identity, digestKey: scratch.path("digest.key")) }

        init() async throws {
            scratch = try ScratchDirectory(prefix: "virtsync-secrets")
            directory = try scratch.makeDirectory("secrets")
            identity = scratch.path("identity.txt")
            try await Command.check("/usr/bin/age-keygen", ["-o", identity])
            recipient = try await Command.check("/usr/bin/age-keygen", ["-y", identity]).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Writes `text` at `relative` under the secrets directory with `mode`.
        func hostFile(_ relative: String, _ text: String, mode: Int = 0o600) throws {
            let path = directory + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        /// `plaintext` encrypted to `recipient` (armored when asked).
        func encrypted(_ plaintext: String, to recipient: String? = nil, armor: Bool = false) async throws -> [UInt8] {
            let input = scratch.path("plain-\(UUID().uuidString)"), output = input + ".age"
            try Data(plaintext.utf8).write(to: URL(fileURLWithPath: input))
            try await Command.check("/usr/bin/age", ["-r", recipient ?? self.recipient] + (armor ? ["-a"] : []) + ["-o", output, input])
            try FileManager.default.removeItem(atPath: input)
            return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
        }
    }

    static func host(_ name: String, _ path: String) -> SecretReference {
        SecretReference(name: name, source: .host(path: path), declaredAt: "secrets.yaml:1")
    }

    static func age(_ name: String, _ ciphertext: [UInt8]) -> SecretReference {
        SecretReference(name: name, source: .age(path: "secrets/\(name).age"), declaredAt: "secrets.yaml:1", ciphertext: ciphertext)
    }

    static func message(_ result: Result<SecretBytes, SecretProblem>?) -> String {
        guard case .failure(let problem)? = result else { return "not a failure" }
        return problem.message
    }

    @Test("a host file closed to group and others is read; open to anyone, open to its group, missing or outside the directory, it is refused")
    func hostFiles() async throws {
        let host = try await Host()
        try host.hostFile("web-1/vnc", "pw-ok")
        try host.hostFile("web-1/open", "pw-open", mode: 0o644)
        try host.hostFile("web-1/group", "pw-group", mode: 0o640)
        try "outside".write(toFile: host.scratch.path("outside.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: host.directory + "/escape", withDestinationPath: host.scratch.path("outside.txt"))
        // An identity kept inside the secrets directory is still never a secret of a spec.
        try FileManager.default.copyItem(atPath: host.identity, toPath: host.directory + "/identity.txt")
        var settings = host.settings
        settings.ageIdentity = host.directory + "/identity.txt"
        let reader = HostSecretReader(settings: settings)
        let values = await reader.read([Self.host("ok", "web-1/vnc"), Self.host("open", "web-1/open"), Self.host("group", "web-1/group"),
                                        Self.host("missing", "web-1/none"), Self.host("escape", "escape"), Self.host("identity", "identity.txt")])
        guard case .success(let ok)? = values["ok"] else { Issue.record("not read: \(Self.message(values["ok"]))"); return }
        #expect(ok.bytes == Array("pw-ok".utf8))
        #expect(Self.message(values["open"]).contains("is readable or writable by everyone (mode 644): chmod 600"))
        #expect(Self.message(values["group"]).contains("is open to its group (mode 640)"))
        #expect(Self.message(values["missing"]).contains("web-1/none does not exist on this host"))
        #expect(Self.message(values["escape"]).contains("leads outside the secrets directory"))
        #expect(Self.message(values["identity"]).contains("is the host's age identity or digest key, which no spec may use"))
        for (name, result) in values where name != "ok" {
            #expect(!Self.message(result).contains("pw-"), "a problem quotes the value: \(Self.message(result))")
        }
        let absent = await HostSecretReader(settings: SecretSettings(directory: host.scratch.path("nowhere"), digestKey: host.scratch.path("k")))
            .read([Self.host("ok", "web-1/vnc")])
        #expect(Self.message(absent["ok"]).contains("the secrets directory \(host.scratch.path("nowhere")) does not exist on this host"))
    }

    @Test("an age file is decrypted with the host's identity, armored or not; another host's file and a plaintext are refused without quoting them")
    func ageFiles() async throws {
        let host = try await Host()
        let other = try await Host()
        let binary = try await host.encrypted("age-canary-1")
        let armored = try await host.encrypted("age-canary-2", armor: true)
        let foreign = try await host.encrypted("age-canary-3", to: other.recipient)
        let damaged = Array(binary.prefix(binary.count - 5))
        let plaintext = Array("root:$6$age-canary-4\n".utf8)
        let reader = HostSecretReader(settings: host.settings)
        let values = await reader.read([Self.age("binary", binary), Self.age("armored", armored), Self.age("foreign", foreign),
                                        Self.age("damaged", damaged), Self.age("plain", plaintext)])
        if case .success(let value)? = values["binary"] { #expect(value.bytes == Array("age-canary-1".utf8)) } else { Issue.record(Comment(rawValue: Self.message(values["binary"]))) }
        if case .success(let value)? = values["armored"] { #expect(value.bytes == Array("age-canary-2".utf8)) } else { Issue.record(Comment(rawValue: Self.message(values["armored"]))) }
        #expect(Self.message(values["foreign"]) == "this host's age identity cannot decrypt it (the file was not encrypted to this host's recipient)")
        #expect(Self.message(values["damaged"]) == "the file is damaged or is not an age-encrypted file")
        #expect(Self.message(values["plain"]) == "the file is damaged or is not an age-encrypted file")
        #expect(!Self.message(values["plain"]).contains("canary"))
    }

    @Test("an identity open to others, or none configured, is refused before age runs")
    func identityChecks() async throws {
        let host = try await Host()
        let ciphertext = try await host.encrypted("x")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: host.identity)
        let open = await HostSecretReader(settings: host.settings).read([Self.age("x", ciphertext)])
        #expect(Self.message(open["x"]).contains("the age identity \(host.identity) is readable or writable by everyone"))
        var settings = host.settings
        settings.ageIdentity = nil
        let none = await HostSecretReader(settings: settings).read([Self.age("x", ciphertext)])
        #expect(Self.message(none["x"]).contains("no age identity is configured on this host"))
    }

    @Test("the digest key is made once (32 random bytes, mode 600) and read the same afterwards; a key open to others is refused")
    func digestKey() async throws {
        let host = try await Host()
        let path = host.scratch.path("keys/digest.key")
        var settings = host.settings
        settings.digestKey = path
        guard case .success(let first) = await HostSecretReader(settings: settings).digestKey() else { Issue.record("no key"); return }
        #expect(first.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        guard case .success(let second) = await HostSecretReader(settings: settings).digestKey() else { Issue.record("no key"); return }
        #expect(first == second)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        guard case .failure(let problem) = await HostSecretReader(settings: settings).digestKey() else { Issue.record("an open key was read"); return }
        #expect(problem.message.contains("readable or writable by everyone"))
    }
}
