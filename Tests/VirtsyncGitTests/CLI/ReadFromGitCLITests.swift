import Foundation
import VirtsyncTestSupport
import Testing

/// `virtsync validate` and `plan` with `--repo`: which remotes, which directory, which commit.
@Suite("CLI: reading a spec from git", .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"))
struct ReadFromGitCLITests {
    @Test("validate and plan read a plain-path remote and a file:// remote, naming the commit")
    func plainPathAndFileURL() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        let commit = try await repo.commit("one VM", ["vms/vm.yaml": TinySpec.vm(vm)])
        for url in [repo.git.url, repo.git.fileURL] {
            let validate = try await repo.validate(repo: url)
            #expect(validate.status == 0, "\(validate.transcript)")
            #expect(validate.stdout.contains("\(url) at \(CLIRepository.short(commit)): valid (1 host, 1 VMs"), "\(validate.transcript)")

            let plan = try await repo.plan(["--detailed-exitcode"], repo: url)
            #expect(plan.status == 2, "changes with --detailed-exitcode: \(plan.transcript)")
            #expect(plan.stdout.contains("commit \(CLIRepository.short(commit))"), "\(plan.transcript)")
            #expect(plan.stdout.contains("create domain \(vm)"), "\(plan.transcript)")
            #expect(!plan.stdout.contains(commit), "the plan text names the commit by its short id: \(plan.transcript)")
        }
    }

    @Test("--path selects one of two cluster directories of one repository")
    func pathSelectsCluster() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm", net = "\(repo.tag)-net"
        try await repo.commit("two clusters", [
                  "clusters/a/vms/vm.yaml": TinySpec.vm(vm),
                  "clusters/b/networks.yaml": TinySpec.network(net),
        ])

        let a = try await repo.plan(["--path", "clusters/a"])
        #expect(a.status == 0, "\(a.transcript)")
        #expect(a.stdout.contains("create domain \(vm)") && !a.stdout.contains(net), "\(a.transcript)")
        let b = try await repo.plan(["--path", "clusters/b"])
        #expect(b.status == 0, "\(b.transcript)")
        #expect(b.stdout.contains("create network \(net)") && !b.stdout.contains(vm), "\(b.transcript)")

        let validateB = try await repo.validate(["--path", "clusters/b"])
        #expect(validateB.stdout.contains("(clusters/b)") && validateB.stdout.contains("0 VMs, 1 networks"), "\(validateB.transcript)")

        let missing = try await repo.validate(["--path", "clusters/c"])
        #expect(missing.status == 1, "\(missing.transcript)")
        #expect(missing.stderr.contains("spec directory 'clusters/c' does not exist"), "\(missing.transcript)")
    }

    @Test("a validation error in a commit is reported with the repository-relative file and line, exit 1")
    func validationErrorLocation() async throws {
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        // Line 7 holds the bad size.
        let text = """
            # yaml-language-server: $schema=../../../specs/virtsync-v1.schema.json
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(vm)
            vcpus: 1
            # the size needs a unit
            memory: lots
            loader: /usr/share/qemu/qboot.rom
            power: stopped

            """
        let commit = try await repo.commit("a bad size", [
            "clusters/a/vms/x.yaml": text,
            "clusters/a/networks.yaml": TinySpec.network("\(repo.tag)-net"),
        ])

        let validate = try await repo.validate(["--path", "clusters/a"])
        #expect(validate.status == 1, "\(validate.transcript)")
        #expect(validate.stderr.contains("clusters/a/vms/x.yaml:7:"), "\(validate.transcript)")
        #expect(validate.stderr.contains("VirtualMachine[\(vm)].memory"), "\(validate.transcript)")
        #expect(validate.stderr.contains("1 error in \(repo.url) (clusters/a) at \(CLIRepository.short(commit))"), "\(validate.transcript)")

        let plan = try await repo.plan(["--path", "clusters/a"])
        #expect(plan.status == 1, "\(plan.transcript)")
        #expect(plan.stderr.contains("clusters/a/vms/x.yaml:7:"), "\(plan.transcript)")
        #expect(!plan.stdout.contains("Plan:"), "no plan for an invalid spec: \(plan.transcript)")
    }

    @Test("a branch deleted on the remote is an error that names it, after it was read once")
    func deletedRef() async throws {
        let repo = try await CLIRepository()
        try await repo.commit("main", ["vms/vm.yaml": TinySpec.vm("\(repo.tag)-vm")])
        try await repo.git.branch("feature")
        let before = try await repo.validate(["--ref", "feature"])
        #expect(before.status == 0, "\(before.transcript)")

        try await repo.git.deleteBranch("feature")
        let after = try await repo.validate(["--ref", "feature"])
        #expect(after.status == 1, "\(after.transcript)")
        #expect(after.stderr.contains("'feature' is not a branch, tag or commit of \(repo.url)"), "\(after.transcript)")
        #expect(after.stderr.contains("deleted on the remote"), "\(after.transcript)")
        let plan = try await repo.plan(["--ref", "feature"])
        #expect(plan.status == 1 && plan.stderr.contains("'feature'"), "\(plan.transcript)")
    }

    /// Something in the spec directory that is not a spec file.
    enum Intruder: String, CaseIterable, CustomTestStringConvertible {
        case symlink, binaryYAML, hugeFile

        var testDescription: String { rawValue }

        /// The path (inside `clusters/a`) of the intruder.
        var path: String {
            switch self {
            case .symlink: "vms/link.yaml"
            case .binaryYAML: "vms/blob.yaml"
            case .hugeFile: "images/huge.yaml"
            }
        }

        /// What the message must say.
        var phrase: String {
            switch self {
            case .symlink: "symbolic link"
            case .binaryYAML: "binary file"
            case .hugeFile: "larger than 1 MiB"
            }
        }

        func write(into repo: CLIRepository) throws {
            let file = "clusters/a/" + path
            switch self {
            case .symlink: try repo.git.symlink(file, to: "vm.yaml")
            case .binaryYAML: try repo.git.writeBinary(file, count: 512)
            case .hugeFile: try repo.git.writeHuge(file, size: 1024 * 1024 + 1)
            }
        }
    }

    @Test("a symlink, a binary .yaml and a file over 1 MiB in the spec directory are each a clear error",
          arguments: Intruder.allCases)
    func intruders(_ intruder: Intruder) async throws {
        let repo = try await CLIRepository()
        try repo.git.write("clusters/a/vms/vm.yaml", TinySpec.vm("\(repo.tag)-vm"))
        try intruder.write(into: repo)
        let commit = try await repo.commit("with a \(intruder)")

        let validate = try await repo.validate(["--path", "clusters/a"])
        #expect(validate.status == 1, "\(validate.transcript)")
        let line = validate.stderr.split(separator: "\n").first { $0.contains(intruder.phrase) }
        #expect(line?.hasPrefix("clusters/a/\(intruder.path)") == true, "the message names the file: \(validate.transcript)")
        #expect(validate.stderr.contains("at \(CLIRepository.short(commit))"), "\(validate.transcript)")

        let plan = try await repo.plan(["--path", "clusters/a"])
        #expect(plan.status == 1 && plan.stderr.contains(intruder.phrase), "\(plan.transcript)")
    }
}
