import Foundation
import VirtsyncTestSupport
import Testing

/// `--allowed-signers` on the command line: who signed the head, and heads that are refused.
@Suite("CLI: signed commits", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"))
struct SignedCommitCLITests {
    /// The `SHA256:…` fingerprint of `key`, as ssh-keygen prints it.
    static func fingerprint(_ key: SSHKey) async throws -> String {
        let line = try await Command.check("ssh-keygen", ["-l", "-E", "sha256", "-f", key.publicKeyPath])
        return line.split(separator: " ").dropFirst().first.map(String.init) ?? line
    }

    @Test("plan and validate name the commit and, with --allowed-signers, the signer and its key")
    func signerNamed() async throws {
        let repo = try await CLIRepository()
        let key = try await repo.git.makeKey("trusted")
        let signers = try repo.git.writeAllowedSigners([key])
        let vm = "\(repo.tag)-vm"
        let commit = try await repo.commit("signed", ["vms/vm.yaml": TinySpec.vm(vm)], signedBy: key)
        let fingerprint = try await Self.fingerprint(key)

        let plan = try await repo.plan(["--allowed-signers", signers])
        #expect(plan.status == 0, "\(plan.transcript)")
        let header = plan.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("commit \(CLIRepository.short(commit))"), "\(plan.transcript)")
        #expect(header.contains("signed by \(GitFixture.authorEmail)"), "\(plan.transcript)")
        #expect(header.contains(fingerprint), "the signer's key fingerprint \(fingerprint): \(plan.transcript)")
        #expect(plan.stdout.contains("create domain \(vm)"), "\(plan.transcript)")

        let markdown = try await repo.plan(["--allowed-signers", signers, "--format", "markdown"])
        #expect(markdown.stdout.contains("Signed by `\(GitFixture.authorEmail)"), "\(markdown.transcript)")

        let validate = try await repo.validate(["--allowed-signers", signers])
        #expect(validate.status == 0, "\(validate.transcript)")
        #expect(validate.stdout.contains("signed by \(GitFixture.authorEmail)"), "\(validate.transcript)")

        // Without --allowed-signers nothing is verified, so no signer is claimed.
        let unverified = try await repo.plan()
        #expect(unverified.status == 0 && !unverified.stdout.contains("signed by"), "\(unverified.transcript)")
    }

    /// How the head commit fails verification.
    enum BadHead: String, CaseIterable, CustomTestStringConvertible {
        case unsigned, untrustedKey
        var testDescription: String { rawValue }
        /// What the refusal must say.
        var phrase: String {
            switch self {
            case .unsigned: "is not signed"
            case .untrustedKey: "is signed by a key that is not trusted"
            }
        }
    }

    @Test("a head that is unsigned or signed by an untrusted key is refused, naming the commit; exit 1",
          arguments: BadHead.allCases)
    func headRefused(_ bad: BadHead) async throws {
        let repo = try await CLIRepository()
        let trusted = try await repo.git.makeKey("trusted")
        let stranger = try await repo.git.makeKey("stranger")
        let signers = try repo.git.writeAllowedSigners([trusted])
        try await repo.commit("signed base", ["vms/vm.yaml": TinySpec.vm("\(repo.tag)-vm")], signedBy: trusted)
        let head = try await repo.commit("the head", ["vms/vm.yaml": TinySpec.vm("\(repo.tag)-vm", memory: "48MiB")],
                                         signedBy: bad == .unsigned ? nil : stranger)
        let named = "commit \(CLIRepository.short(head)) (\"the head\""

        for result in [try await repo.plan(["--allowed-signers", signers]),
                       try await repo.validate(["--allowed-signers", signers]),
                       try await repo.apply(["--allowed-signers", signers])] {
            #expect(result.status == 1, "\(result.transcript)")
            #expect(result.stderr.contains(named), "names the commit: \(result.transcript)")
            #expect(result.stderr.contains(bad.phrase), "\(result.transcript)")
            #expect(!result.stdout.contains("Plan:") && !result.stdout.contains("valid"), "nothing planned: \(result.transcript)")
        }
        #expect(try repo.record() == nil, "a refused apply records nothing")
    }

    @Test("a review plan with --allowed-signers verifies every commit after the base, not only the head")
    func reviewVerifiesRange() async throws {
        let repo = try await CLIRepository()
        let key = try await repo.git.makeKey("trusted")
        let signers = try repo.git.writeAllowedSigners([key])
        let vm = "\(repo.tag)-vm"
        let base = try await repo.commit("base", ["vms/vm.yaml": TinySpec.vm(vm)], signedBy: key)
        let unsigned = try await repo.commit("unsigned", ["vms/vm.yaml": TinySpec.vm(vm, memory: "40MiB")])
        let head = try await repo.commit("head", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")], signedBy: key)

        let refused = try await repo.reviewPlan(base: base, head: head, ["--allowed-signers", signers])
        #expect(refused.status == 1, "\(refused.transcript)")
        #expect(refused.stderr.contains("commit \(CLIRepository.short(unsigned))") && refused.stderr.contains("is not signed"),
                "\(refused.transcript)")
        let fromUnsigned = try await repo.reviewPlan(base: unsigned, head: head, ["--allowed-signers", signers])
        #expect(fromUnsigned.status == 0, "only commits after the base are verified: \(fromUnsigned.transcript)")
        #expect(fromUnsigned.stdout.contains("signed by \(GitFixture.authorEmail)"), "\(fromUnsigned.transcript)")
    }
}
