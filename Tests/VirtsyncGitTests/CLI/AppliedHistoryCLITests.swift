import Foundation
import VirtsyncTestSupport
import Testing

/// What the state directory remembers between applies: the last applied commit, and what it
/// takes to move away from it (a history rewrite, an unsigned commit in between, a saved plan).
///
/// Each apply runs against libvirt's in-process test driver, so what it creates is gone when the
/// process ends; the record of the applied commit in the state directory is what these tests use.
@Suite("CLI: applied history", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"))
struct AppliedHistoryCLITests {
    @Test("after a force-push apply refuses, naming the rewrite; --allow-history-rewrite applies it")
    func forcePush() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        try await repo.commit("first", ["vms/vm.yaml": TinySpec.vm(vm)])
        let applied = try await repo.commit("second", ["vms/vm.yaml": TinySpec.vm(vm, memory: "40MiB")])
        let first = try await repo.apply()
        #expect(first.status == 0, "\(first.transcript)")
        #expect(try repo.lastApplied() == applied)

        try repo.git.write("vms/vm.yaml", TinySpec.vm(vm, memory: "48MiB"))
        let rewritten = try await repo.git.amend("second, rewritten")
        let refused = try await repo.apply()
        #expect(refused.status == 1, "\(refused.transcript)")
        #expect(refused.stderr.contains("refused:"), "\(refused.transcript)")
        #expect(refused.stderr.contains("does not descend from the last applied commit \(CLIRepository.short(applied))"), "\(refused.transcript)")
        #expect(refused.stderr.contains(CLIRepository.short(rewritten)), "names the new head: \(refused.transcript)")
        #expect(refused.stderr.contains("--allow-history-rewrite"), "says how to go on: \(refused.transcript)")
        #expect(!refused.stdout.contains("Apply:"), "nothing applied: \(refused.transcript)")
        #expect(try repo.lastApplied() == applied)
        // The same repository named another way is the same source: still refused.
        let renamed = try await repo.apply(repo: "file://" + repo.url + "/")
        #expect(renamed.status == 1 && renamed.stderr.contains("refused:"), "\(renamed.transcript)")

        // plan shows the same fact as a warning, and still plans.
        let plan = try await repo.plan()
        #expect(plan.status == 0, "\(plan.transcript)")
        #expect(plan.stdout.contains("history was rewritten"), "\(plan.transcript)")

        let allowed = try await repo.apply(["--allow-history-rewrite"])
        #expect(allowed.status == 0, "\(allowed.transcript)")
        #expect(try repo.lastApplied() == rewritten)

        // From the new commit on, a plain apply works again.
        let next = try await repo.commit("third", ["vms/vm.yaml": TinySpec.vm(vm, memory: "56MiB")])
        let again = try await repo.apply()
        #expect(again.status == 0, "\(again.transcript)")
        #expect(try repo.lastApplied() == next)
    }

    @Test("a ref moved back to an older commit is refused as well")
    func movedBack() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let older = try await repo.commit("older", ["vms/vm.yaml": TinySpec.vm(vm)])
        let newer = try await repo.commit("newer", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
        #expect(try await repo.apply().status == 0)
        try await repo.git.resetHard(to: older)
        let refused = try await repo.apply()
        #expect(refused.status == 1, "\(refused.transcript)")
        #expect(refused.stderr.contains("ancestor of the last applied commit \(CLIRepository.short(newer))"), "\(refused.transcript)")
        #expect(try repo.lastApplied() == newer)
    }

    @Test("signed A applied, then signed B, unsigned C, signed D: applying D is refused naming C")
    func unsignedMiddleCommit() async throws {
        let repo = try await CLIRepository()
        let key = try await repo.git.makeKey("trusted")
        let signers = try repo.git.writeAllowedSigners([key])
        let vm = "\(repo.tag)-vm"
        let a = try await repo.commit("A", ["vms/vm.yaml": TinySpec.vm(vm)], signedBy: key)
        let applyA = try await repo.apply(["--allowed-signers", signers])
        #expect(applyA.status == 0, "\(applyA.transcript)")
        #expect(try repo.lastApplied() == a)

        let b = try await repo.commit("B", ["vms/vm.yaml": TinySpec.vm(vm, memory: "40MiB")], signedBy: key)
        let c = try await repo.commit("C", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
        let d = try await repo.commit("D", ["vms/vm.yaml": TinySpec.vm(vm, memory: "56MiB")], signedBy: key)

        for result in [try await repo.apply(["--allowed-signers", signers]), try await repo.plan(["--allowed-signers", signers])] {
            #expect(result.status == 1, "\(result.transcript)")
            #expect(result.stderr.contains("commit \(CLIRepository.short(c)) (\"C\"") && result.stderr.contains("is not signed"),
                    "names the unsigned middle commit: \(result.transcript)")
            #expect(!result.stderr.contains(CLIRepository.short(b)) && !result.stderr.contains(CLIRepository.short(d)),
                    "only the culprit: \(result.transcript)")
            #expect(!result.stdout.contains("Apply:"), "\(result.transcript)")
        }
        #expect(try repo.lastApplied() == a, "the last applied commit stays A")

        // Without a record (a fresh state directory) only the head is verified: D is signed.
        let fresh = try await VirtsyncBinary.run(["validate", "--repo", repo.url, "--allowed-signers", signers,
                                                  "--state-dir", try repo.git.scratchPath("fresh-state")])
        #expect(fresh.status == 0, "\(fresh.transcript)")
    }

    @Test("apply --plan of a plan made from git needs --repo again and applies exactly that commit")
    func savedPlanPinsCommit() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let planned = try await repo.commit("planned", ["vms/vm.yaml": TinySpec.vm(vm)])
        let planFile = try repo.git.scratchPath("plan.json")
        let plan = try await repo.plan(["--out", planFile])
        #expect(plan.status == 0, "\(plan.transcript)")

        // The branch moves on after the review.
        let later = try await repo.commit("later", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])

        let withoutRepo = try await VirtsyncBinary.run(["apply", "--plan", planFile, "--state-dir", repo.stateDir,
                                                        "--connect", CLIRepository.testURI, "--auto-approve"])
        #expect(withoutRepo.status == 1, "\(withoutRepo.transcript)")
        #expect(withoutRepo.stderr.contains("the plan was made from git") && withoutRepo.stderr.contains("give --repo"),
                "\(withoutRepo.transcript)")

        let applied = try await repo.apply(["--plan", planFile])
        #expect(applied.status == 0, "\(applied.transcript)")
        #expect(applied.stdout.contains("commit \(CLIRepository.short(planned))"), "\(applied.transcript)")
        #expect(applied.stdout.contains("ok      create domain \(vm)"), "\(applied.transcript)")
        #expect(try repo.lastApplied() == planned, "the planned commit, not \(CLIRepository.short(later))")
    }
}
