import Foundation
import VirtsyncTestSupport
import Testing
import VirtsyncEngine
import VirtsyncSpec
@testable import VirtsyncGit

@Suite("SSH commit signatures, verified with ssh-keygen against an allowed-signers file")
struct SignatureTests {
    @Test("signed, unsigned, untrusted and tampered commits")
    func verdicts() async throws {
        let fixture = try await GitFixture()
        let trusted = try await fixture.makeKey("trusted"), stranger = try await fixture.makeKey("stranger")
        let allowed = try fixture.writeAllowedSigners([trusted])
        let verifier = try SSHSignatureVerifier(allowedSigners: allowed)
        try fixture.write("vm.yaml", vmYAML)
        let signed = try await fixture.commit("signed", signedBy: trusted)
        try fixture.write("vm.yaml", vmYAML + "# 2\n")
        let unsigned = try await fixture.commit("unsigned")
        try fixture.write("vm.yaml", vmYAML + "# 3\n")
        let untrusted = try await fixture.commit("untrusted", signedBy: stranger)
        // A signed commit whose message was changed afterwards, keeping the signature.
        let raw = try await fixture.git("cat-file", "commit", signed)
        let forged = raw.replacingOccurrences(of: "\nsigned", with: "\nforged")
        let forgedPath = try fixture.scratchPath("forged-commit")
        try forged.appending("\n").write(toFile: forgedPath, atomically: true, encoding: .utf8)
        let tampered = try await fixture.git("hash-object", "-w", "-t", "commit", forgedPath)
        _ = try await fixture.git("push", "-q", "origin", "\(tampered):refs/heads/tampered")

        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        func verify(_ id: String) async throws -> Signer {
            let commit = CommitID(id)!
            return try await verifier.verify(try cache.signature(of: commit), of: try cache.info(commit))
        }
        let signer = try await verify(signed)
        #expect(signer.principal == GitFixture.authorEmail && signer.key.hasPrefix("ED25519 key SHA256:"))
        await #expect { try await verify(unsigned) } throws: { "\($0)".contains("is not signed") && "\($0)".contains(String(unsigned.prefix(12))) }
        await #expect { try await verify(untrusted) } throws: { "\($0)".contains("not trusted") }
        await #expect { try await verify(tampered) } throws: { "\($0)".contains("bad signature") }
        #expect(try cache.signature(of: CommitID(unsigned)!) == nil)
    }

    @Test("a key outside its validity window does not verify; a missing trust file is an error, not 'no verification'")
    func validity() async throws {
        let fixture = try await GitFixture()
        let key = try await fixture.makeKey("expired")
        // Commits of the fixture are dated from 2024-01-01; this key expired in 2020.
        let allowed = try fixture.writeTrustFile("allowed", lines: ["\(GitFixture.authorEmail) namespaces=\"git\",valid-before=\"20200101\" \(key.keyText)"])
        try fixture.write("vm.yaml", vmYAML)
        let head = try await fixture.commit("late", signedBy: key)
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        let verifier = try SSHSignatureVerifier(allowedSigners: allowed)
        await #expect(throws: GitError.self) {
            try await verifier.verify(try cache.signature(of: CommitID(head)!), of: try cache.info(CommitID(head)!))
        }
        #expect(throws: GitError.self) { try SSHSignatureVerifier(allowedSigners: try fixture.scratchPath("nope")) }
    }

    @Test("the whole range since the last applied commit is verified through the source")
    func range() async throws {
        let fixture = try await GitFixture()
        let key = try await fixture.makeKey("ops")
        let allowed = try fixture.writeAllowedSigners([key])
        try fixture.write("vm.yaml", vmYAML)
        let applied = try await fixture.commit("applied", signedBy: key)
        try fixture.write("vm.yaml", vmYAML + "# b\n")
        _ = try await fixture.commit("b", signedBy: key)
        try fixture.write("vm.yaml", vmYAML + "# c\n")
        let sneaky = try await fixture.commit("c, unsigned")
        try fixture.write("vm.yaml", vmYAML + "# d\n")
        _ = try await fixture.commit("d", signedBy: key)
        let source = RepositorySource(repository: try makeCache(fixture), verifier: try SSHSignatureVerifier(allowedSigners: allowed))
        await #expect {
            try await source.read(ref: nil, path: ".", lastApplied: CommitID(applied))
        } throws: { "\($0)".contains(String(sneaky.prefix(12))) && "\($0)".contains("not signed") }
        // Without a last applied commit only the head is checked, and it is signed.
        #expect(try await source.read(ref: nil, path: ".").signer?.principal == GitFixture.authorEmail)
    }

    @Test("an ssh-keygen that never answers is killed at the deadline and the commit is refused, not waited for")
    func hungVerifier() async throws {
        let fixture = try await GitFixture()
        let key = try await fixture.makeKey("ops")
        let allowed = try fixture.writeAllowedSigners([key])
        try fixture.write("vm.yaml", vmYAML)
        let head = try await fixture.commit("signed", signedBy: key)
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        let marker = try fixture.scratchPath("hung-pid")
        let hung = try fixture.scratchPath("hung-ssh-keygen")
        try "#!/bin/sh\necho $$ > \(marker)\nexec sleep 60\n".write(toFile: hung, atomically: true, encoding: .utf8)
        chmod(hung, 0o755)
        let verifier = try SSHSignatureVerifier(allowedSigners: allowed, sshKeygen: hung, timeout: .seconds(1))
        let start = ContinuousClock.now
        await #expect { try await verifier.verify(try cache.signature(of: CommitID(head)!), of: try cache.info(CommitID(head)!)) }
            throws: { ($0 as? GitError)?.kind == .timeout && "\($0)".contains("did not finish") }
        // Killed, not waited for: the fake ssh-keygen sleeps 60 s. (No tighter bound: when the
        // git tests' blocking fixtures hold Swift's threads, the 1 s deadline itself resumes late,
        // up to 30 s in a CI run.)
        #expect(ContinuousClock.now - start < .seconds(55))
        // The child is gone, not left running.
        let pid = Int32((try String(contentsOfFile: marker, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try await Task.sleep(for: .milliseconds(500))
        #expect(pid > 0 && kill(pid, 0) != 0, "ssh-keygen \(pid) still runs")
    }
}
