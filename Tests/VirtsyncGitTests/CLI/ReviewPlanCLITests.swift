import Foundation
import VirtsyncTestSupport
import Testing

/// `plan --base A --head B`: the plan for a pull request, read from git only.
@Suite("CLI: review plans", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"))
struct ReviewPlanCLITests {
    @Test("a Markdown review plan shows the base and head commits, the no-host note and the steps")
    func markdownReview() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm", net = "\(repo.tag)-net"
        let base = try await repo.commit("base", ["vms/vm.yaml": TinySpec.vm(vm)])
        let head = try await repo.commit("head", [
            "vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB"),
            "networks.yaml": TinySpec.network(net),
        ])

        let review = try await repo.reviewPlan(base: base, head: head, ["--format", "markdown", "--detailed-exitcode"])
        #expect(review.status == 2, "changes with --detailed-exitcode: \(review.transcript)")
        let text = review.stdout
        #expect(text.contains("Base `\(CLIRepository.short(base))` → head `\(CLIRepository.short(head))`"), "\(review.transcript)")
        #expect(text.contains("> [!NOTE]") && text.contains("computed without reading any host"), "\(review.transcript)")
        #expect(text.contains("update domain \(vm)") && text.contains("memory: 32MiB -> 48MiB"), "\(review.transcript)")
        #expect(text.contains("create network \(net)"), "\(review.transcript)")

        // Base and head given as branch and tag names work too, and an identical pair plans nothing.
        try await repo.git.tag("v1", at: base)
        let named = try await repo.reviewPlan(base: "v1", head: "main")
        #expect(named.status == 0 && named.stdout.contains("update domain \(vm)"), "\(named.transcript)")
        let same = try await repo.reviewPlan(base: head, head: head, ["--detailed-exitcode"])
        #expect(same.status == 0, "nothing to do: \(same.transcript)")
    }

    @Test("a pull request that creates the spec directory plans creates from nothing; a base spec that is invalid is an error")
    func firstPullRequest() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let base = try await repo.commit("readme only", ["README.md": "specs live in clusters/\n"])
        let head = try await repo.commit("first cluster", ["clusters/new/vm.yaml": TinySpec.vm(vm)])
        let review = try await repo.reviewPlan(base: base, head: head, ["--path", "clusters/new"])
        #expect(review.status == 0 && review.stdout.contains("create domain \(vm)"), "\(review.transcript)")

        let broken = try await repo.commit("broken base", ["clusters/new/vm.yaml": "apiVersion: virtsync/v1\nkind: VirtualMachine\n"])
        let fixed = try await repo.commit("fixed", ["clusters/new/vm.yaml": TinySpec.vm(vm)])
        let refused = try await repo.reviewPlan(base: broken, head: fixed, ["--path", "clusters/new"])
        #expect(refused.status == 1 && refused.stderr.contains("base commit \(CLIRepository.short(broken)) is invalid"), "\(refused.transcript)")
        #expect(refused.stderr.contains("clusters/new/vm.yaml"), "\(refused.transcript)")
    }

    @Test("a review plan reads no host: it works for a spec whose Host cannot be reached")
    func noHostRead() async throws {
        let repo = try await CLIRepository()
        let host = """
            apiVersion: virtsync/v1
            kind: Host
            name: far
            uri: qemu+ssh://root@unreachable.invalid/system

            """
        let vm = "\(repo.tag)-vm"
        let base = try await repo.commit("base", ["hosts.yaml": host, "vms/vm.yaml": TinySpec.vm(vm)])
        let head = try await repo.commit("head", ["vms/vm.yaml": TinySpec.vm(vm, memory: "64MiB")])
        let review = try await repo.reviewPlan(base: base, head: head)
        #expect(review.status == 0, "\(review.transcript)")
        #expect(review.stdout.contains("host far") && review.stdout.contains("update domain \(vm)"), "\(review.transcript)")
        #expect(!review.stdout.contains("Notes:") && review.stderr.isEmpty, "no connection was tried: \(review.transcript)")
    }

    @Test("a huge review plan is split into plan-part-N.md files of at most --comment-limit bytes")
    func parts() async throws {
        let repo = try await CLIRepository()
        let base = try await repo.commit("base", ["networks.yaml": TinySpec.network("\(repo.tag)-net")])
        let names = (0..<120).map { "\(repo.tag)-vm\($0)" }
        var files: [String: String] = [:]
        for name in names { files["vms/\(name).yaml"] = TinySpec.vm(name) }
        let head = try await repo.commit("120 VMs", files)
        let partsDir = try repo.git.scratchPath("parts")

        let review = try await repo.reviewPlan(base: base, head: head,
                                               ["--format", "markdown", "--comment-limit", "4096", "--parts-dir", partsDir])
        #expect(review.status == 0, "\(review.transcript)")
        let written = try FileManager.default.contentsOfDirectory(atPath: partsDir).sorted()
        let count = written.count
        #expect(count >= 3, "several parts: \(written)")
        #expect(Set(written) == Set((1...max(count, 1)).map { "plan-part-\($0).md" }), "\(written)")
        var all = ""
        for index in 1...max(count, 1) {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(partsDir)/plan-part-\(index).md"))
            #expect(data.count <= 4096, "part \(index) has \(data.count) bytes")
            let part = String(decoding: data, as: UTF8.self)
            #expect(part.contains("part=\(index)/\(count)"), "part \(index) says which part it is")
            all += part
        }
        let missing = names.filter { !all.contains("create domain \($0) ") }
        #expect(missing.isEmpty, "every VM is in some part; missing: \(missing)")
        #expect(review.stdout.utf8.count >= all.utf8.count, "stdout holds the parts too")
    }

    @Test("apply --plan of a review plan is refused, and nothing is recorded")
    func applyReviewPlanRefused() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let base = try await repo.commit("base", ["vms/vm.yaml": TinySpec.vm(vm)])
        let head = try await repo.commit("head", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
        let planFile = try repo.git.scratchPath("review.json")
        let review = try await repo.reviewPlan(base: base, head: head, ["--out", planFile])
        #expect(review.status == 0, "\(review.transcript)")

        let apply = try await repo.apply(["--plan", planFile])
        #expect(apply.status == 1, "\(apply.transcript)")
        #expect(apply.stderr.contains("is a review plan (--base)") && apply.stderr.contains("cannot be applied"), "\(apply.transcript)")
        #expect(!apply.stdout.contains("Apply:"), "\(apply.transcript)")
        #expect(try repo.record() == nil)
    }

    @Test("a review plan reads no secret: a VM that uses one is planned, and its secret shows as changed only when its encrypted file changed")
    func secretsInReview() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let machine = TinySpec.vm(vm) + "graphics: {type: vnc, passwordSecret: pw}\n"
        let secret = "---\napiVersion: virtsync/v1\nkind: Secret\nname: pw\nageFile: secrets/pw.age\n"
        let base = try await repo.commit("base", ["vms/vm.yaml": machine + secret, "secrets/pw.age": "ciphertext one\n"])
        let memory = try await repo.commit("memory", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB") + "graphics: {type: vnc, passwordSecret: pw}\n" + secret])
        let review = try await repo.reviewPlan(base: base, head: memory)
        #expect(review.status == 0, "\(review.transcript)")
        #expect(review.stdout.contains("memory: 32MiB → 48MiB"), "\(review.transcript)")
        #expect(!review.stdout.contains("graphics.password"), "an unchanged secret is no change: \(review.transcript)")
        #expect(review.stdout.contains("review plan: no secret was read"), "\(review.transcript)")
        let rotated = try await repo.commit("rotate", ["secrets/pw.age": "ciphertext two\n"])
        let change = try await repo.reviewPlan(base: memory, head: rotated)
        #expect(change.stdout.contains("graphics.password: secret pw (digest "), "\(change.transcript)")
        #expect(!change.stdout.contains("left exactly as it is"), "\(change.transcript)")
    }
}
