import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VirtsyncAgent
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTestSupport

/// Canary secrets planted in every place a secret can be used (a display password from a host
/// file, a whole network-config from a host file, a value inside user-data from an age file),
/// carried by the real agent and the real CLI to a real libvirtd, then looked for in everything
/// they produced: plans in every format, the saved plan, the agent's log, status and metrics,
/// the state directory and the domain's XML. The values must reach libvirt and the guest's seed,
/// and nowhere else.
// Part of the serialized suite of the agent on a real libvirtd: run beside its timing checks
// (a repair within 5 s), creating a LUKS volume and a TPM would slow them down.
extension AgentSystemTests {
    /// Every form a leaked value could take in text: as is, and base64 at each of the three
    /// alignments (a seed image in a JSON plan was base64).
    static func forms(_ canary: String) -> [String] {
        var out = [canary]
        for pad in 0..<3 {
            let encoded = Data((String(repeating: "x", count: pad) + canary).utf8).base64EncodedString()
            // Drop the characters that depend on the padding and on what follows.
            let start = encoded.index(encoded.startIndex, offsetBy: (pad * 4 + 2) / 3)
            out.append(String(encoded[start...].dropLast(4)))
        }
        return out
    }

    @Test("no secret value appears in any plan, log, status, metric, state file or domain XML, while libvirt and the seed get them")
    func canaries() async throws {
        let canaries = ["vnc": "Vnc\(Int.random(in: 10000...99999))",
                        "network": "net-canary-\(UUID().uuidString)",
                        "user": "user-canary-\(UUID().uuidString)",
                        "disk": "disk-canary-\(UUID().uuidString)",
                        "tpm": "tpm-canary-\(UUID().uuidString)"]
        // The search finds a value however base64 aligned it.
        for pad in 0..<3 {
            let encoded = Data((String(repeating: "q", count: pad) + "Vnc12345" + "tail").utf8).base64EncodedString()
            #expect(Self.forms("Vnc12345").contains { encoded.contains($0) }, "alignment \(pad)")
        }
        let secretsDir = try await prepareSecrets(canaries)
        let h = try await AgentHarness(uri: Self.uri, extra: """
            secrets:
              directory: \(secretsDir.directory)
              ageIdentity: \(secretsDir.identity)
              digestKey: \(secretsDir.digestKey)
            """)
        let vm = "\(h.tag)-vm", pool = "\(h.tag)-pool", poolPath = "/tmp/\(h.tag)-pool"
        defer { try? FileManager.default.removeItem(atPath: poolPath) }
        try await h.tearingDown {
            let spec = TinySpec.vm(vm, power: "running") + """
                graphics: {type: vnc, passwordSecret: vnc}
                disks:
                  - volume: \(pool)/data.raw
                cloudInit:
                  pool: \(pool)
                  networkConfigSecret: network
                  userDataFile: cloud/user.cfg
                xml:
                  devices: |
                    <tpm model='tpm-crb'>
                      <backend type='emulator' version='2.0'>
                        <encryption secret='((secret-uuid:tpm:vtpm))'/>
                      </backend>
                    </tpm>
                ---
                apiVersion: virtsync/v1
                kind: StoragePool
                name: \(pool)
                path: \(poolPath)
                autostart: false
                volumes:
                  - {name: data.raw, size: 16MiB, format: raw, encryptionSecret: disk}
                ---
                apiVersion: virtsync/v1
                kind: Secret
                name: disk
                hostFile: vm/disk
                ---
                apiVersion: virtsync/v1
                kind: Secret
                name: tpm
                hostFile: vm/tpm
                ---
                apiVersion: virtsync/v1
                kind: Secret
                name: vnc
                hostFile: vm/vnc
                ---
                apiVersion: virtsync/v1
                kind: Secret
                name: network
                hostFile: vm/network-config
                ---
                apiVersion: virtsync/v1
                kind: Secret
                name: user
                ageFile: secrets/user.age

                """
            let first = try await h.commit("first", ["vms/vm.yaml": spec, "cloud/user.cfg": "#cloud-config\nchpasswd: ((secret:user))\n",
                                                     "secrets/user.age": secretsDir.userCiphertext])
            try h.start()
            let applied = await h.waitFor("applied") { $0.lastApplied?.commit == first }
            #expect(applied != nil, "\(h.log.prefix(6000))")
            #expect(await h.domainState(vm) == "running")

            // The values reached libvirt (the password, for a secure reader only) and the seed.
            let secure = try await h.virsh("dumpxml", "--security-info", vm).stdout
            #expect(secure.contains("passwd='\(canaries["vnc"] ?? "")'"), "\(secure)")
            let seedName = try #require(secure.components(separatedBy: "volume='").dropFirst().first { $0.hasPrefix("\(vm)-cidata-") }?.prefix { $0 != "'" },
                                        "\(secure)")
            let seed = try Data(contentsOf: URL(fileURLWithPath: "\(poolPath)/\(seedName)"))
            #expect(seed.range(of: Data((canaries["network"] ?? "").utf8)) != nil)
            #expect(seed.range(of: Data("chpasswd: \(canaries["user"] ?? "")".utf8)) != nil)

            // Rotation of the host file: a live change, seen by the next pass without a commit.
            try secretsDir.write("vm/vnc", "Rot\(Int.random(in: 10000...99999))")
            let rotated = try String(contentsOfFile: secretsDir.directory + "/vm/vnc", encoding: .utf8)
            let pass = try await h.reconcileNow()
            #expect(pass?.planned == ["update": 1], "\(String(describing: pass))")
            #expect(try await h.virsh("dumpxml", "--security-info", vm).stdout.contains("passwd='\(rotated)'"))
            let quiet = try await h.reconcileNow()
            #expect(quiet?.planned.isEmpty == true, "a second pass plans nothing: \(String(describing: quiet))")

            // What the agent shows, then the agent stopped: nothing else acts on the host now.
            var outputs: [String: String] = [:]
            outputs["status"] = String(decoding: try await h.http("GET", "/status").body, as: UTF8.self)
            outputs["metrics"] = String(decoding: try await h.http("GET", "/metrics").body, as: UTF8.self)
            h.stop()
            // The CLI on the same host, after one more rotation the agent has not seen (a host
            // file changes without an event): the password's change in every format and in
            // saved plan files, by digest only.
            try secretsDir.write("vm/vnc", "Cli\(Int.random(in: 10000...99999))")
            let unapplied = try String(contentsOfFile: secretsDir.directory + "/vm/vnc", encoding: .utf8)
            let common = ["--repo", h.git.url, "--connect", Self.uri, "--state-dir", h.scratch.path("cli-state"),
                          "--secrets-dir", secretsDir.directory, "--age-identity", secretsDir.identity,
                          "--secret-digest-key", secretsDir.digestKey]
            for format in ["text", "markdown", "json"] {
                let run = try await VirtsyncBinary.run(["plan", "--format", format, "--out", h.scratch.path("plan.\(format)")] + common)
                #expect(run.status == 0, "plan --format \(format): \(run.stdout) \(run.stderr)")
                outputs["plan \(format)"] = run.stdout + run.stderr
                outputs["plan file \(format)"] = (try? String(contentsOfFile: h.scratch.path("plan.\(format)"), encoding: .utf8)) ?? ""
            }
            // Without the secrets, the VM is held, and the error says why without the value.
            let held = try await VirtsyncBinary.run(["plan", "--repo", h.git.url, "--connect", Self.uri, "--state-dir", h.scratch.path("cli-state"),
                                                     "--secrets-dir", h.scratch.path("no-secrets"), "--secret-digest-key", secretsDir.digestKey])
            #expect(held.stdout.contains("domain \(vm) is left exactly as it is"), "\(held.stdout)")
            outputs["held plan"] = held.stdout + held.stderr
            outputs["domain XML"] = try await h.virsh("dumpxml", vm).stdout
            outputs["inactive domain XML"] = try await h.virsh("dumpxml", "--inactive", vm).stdout
            for consumer in ["\(pool)/data.raw", "\(vm):tpm:vtpm"] {
                let object = try await h.virsh("secret-dumpxml", SecretObjectModel.uuid(consumer: consumer)).stdout
                #expect(object.contains("private='yes'"), "\(object)")
                outputs["secret object \(consumer)"] = object
            }
            outputs["agent log"] = h.log
            for file in FileManager.default.subpaths(atPath: h.stateDir) ?? [] {
                outputs["state \(file)"] = (try? String(decoding: Data(contentsOf: URL(fileURLWithPath: h.stateDir + "/" + file)), as: UTF8.self)) ?? ""
            }
            for file in FileManager.default.subpaths(atPath: h.scratch.path("cli-state")) ?? [] {
                outputs["cli state \(file)"] = (try? String(decoding: Data(contentsOf: URL(fileURLWithPath: h.scratch.path("cli-state") + "/" + file)), as: UTF8.self)) ?? ""
            }
            #expect(outputs["agent log"]?.isEmpty == false)
            #expect(outputs["plan json"]?.contains("graphics.password") == true, "\(outputs["plan json"] ?? "")")
            #expect(outputs["plan text"]?.contains("graphics.password: secret vnc (digest ") == true, "\(outputs["plan text"] ?? "")")
            for (name, canary) in canaries.merging(["rotated": rotated, "unapplied": unapplied], uniquingKeysWith: { a, _ in a }) {
                for form in Self.forms(canary) {
                    for (place, text) in outputs where text.contains(form) {
                        Issue.record("secret \(name) appears in \(place)")
                    }
                }
            }
            _ = try? await h.virsh("destroy", vm)
            _ = try? await h.virsh("undefine", vm)
            for volume in (try? await h.virsh("vol-list", pool, "--name"))?.stdout.split(separator: "\n") ?? [] {
                _ = try? await h.virsh("vol-delete", String(volume), "--pool", pool)
            }
            _ = try? await h.virsh("pool-destroy", pool)
            _ = try? await h.virsh("pool-undefine", pool)
            for consumer in ["\(pool)/data.raw", "\(vm):tpm:vtpm"] {
                _ = try? await h.virsh("secret-undefine", SecretObjectModel.uuid(consumer: consumer))
            }
        }
    }

    /// A secrets directory with the host files, an age identity and the user-data secret
    /// encrypted to it.
    struct Secrets {
        let scratch: ScratchDirectory
        let directory: String
        let identity: String
        let digestKey: String
        var userCiphertext = ""

        func write(_ relative: String, _ text: String) throws {
            let path = directory + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
        }
    }

    private func prepareSecrets(_ canaries: [String: String]) async throws -> Secrets {
        let scratch = try ScratchDirectory(prefix: "canary")
        var secrets = Secrets(scratch: scratch, directory: try scratch.makeDirectory("secrets"), identity: scratch.path("identity.txt"),
                              digestKey: scratch.path("digest.key"))
        try await Command.check("/usr/bin/age-keygen", ["-o", secrets.identity])
        let recipient = try await Command.check("/usr/bin/age-keygen", ["-y", secrets.identity]).trimmingCharacters(in: .whitespacesAndNewlines)
        try secrets.write("vm/vnc", canaries["vnc"] ?? "")
        try secrets.write("vm/disk", canaries["disk"] ?? "")
        try secrets.write("vm/tpm", canaries["tpm"] ?? "")
        try secrets.write("vm/network-config", "version: 2\n# \(canaries["network"] ?? "")\n")
        let plain = scratch.path("user.plain")
        try Data((canaries["user"] ?? "").utf8).write(to: URL(fileURLWithPath: plain))
        try await Command.check("/usr/bin/age", ["-r", recipient, "-a", "-o", scratch.path("user.age"), plain])
        try FileManager.default.removeItem(atPath: plain)
        secrets.userCiphertext = try String(contentsOfFile: scratch.path("user.age"), encoding: .utf8)
        return secrets
    }
}
