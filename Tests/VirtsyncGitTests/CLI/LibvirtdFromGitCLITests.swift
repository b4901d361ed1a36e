import Foundation
import VirtsyncTestSupport
import Testing

/// Applying specs from git to the real libvirtd that scripts/test.sh starts (VIRTSYNC_SYSTEM_URI),
/// checked with `virsh`, an independent client. Unlike the test driver, the daemon keeps what one
/// virtsync process created for the next one, so a second plan can be empty.
///
/// Serialized: one test applies with `--prune`, which removes every domain that carries
/// virtsync's marker and is not in its spec, whichever state directory applied it (domain
/// ownership is per host, not per state directory), so it would remove the other tests' VMs.
@Suite("CLI: applying from git to a real libvirtd", .serialized, .enabled(if: VirtsyncBinary.isBuilt, "virtsync is not built"),
       .enabled(if: CLIRepository.systemURI != nil, "VIRTSYNC_SYSTEM_URI is not set"))
struct LibvirtdFromGitCLITests {
    /// The daemon's URI, when system tests are enabled.
    static let uri = CLIRepository.systemURI

    /// Runs `virsh -q -c URI arguments...`.
    @discardableResult
    static func virsh(_ arguments: [String]) async throws -> CommandResult {
        try await Command.run("virsh", ["-q", "-c", uri ?? "qemu:///system"] + arguments)
    }

    /// The `commit` attribute of virtsync's ownership marker in the domain's XML, if any.
    static func markerCommit(_ domain: String) async throws -> String? {
        let xml = try await virsh(["dumpxml", domain]).stdout
        guard let marker = xml.range(of: "<virtsync:managed "),
              let attribute = xml[marker.upperBound...].range(of: "commit=\"") else { return nil }
        let rest = xml[attribute.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// Removes the domain and network whatever happened (what a passing test leaves is already
    /// gone or stopped; destroy is for a run that went wrong).
    static func remove(domain: String, network: String? = nil) async {
        _ = try? await virsh(["destroy", domain])
        _ = try? await virsh(["undefine", domain])
        if let network {
            _ = try? await virsh(["net-destroy", network])
            _ = try? await virsh(["net-undefine", network])
        }
    }

    /// Runs `body`, then removes the domain and network (`remove`) whether it threw or not.
    static func cleaningUp(domain: String, network: String? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await remove(domain: domain, network: network)
            throw error
        }
        await remove(domain: domain, network: network)
    }

    @Test("apply from git marks the domain with the commit; a second plan is empty; a pushed change moves the marker")
    func applyFromGit() async throws {
        let uri = try #require(Self.uri)
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm", net = "\(repo.tag)-net"
        try await Self.cleaningUp(domain: vm, network: net) {
            let first = try await repo.commit("add \(vm)", ["vms/vm.yaml": TinySpec.vm(vm)])
            let apply = try await repo.apply(connect: uri)
            #expect(apply.status == 0, "\(apply.transcript)")
            #expect(apply.stdout.contains("ok      create domain \(vm)"), "\(apply.transcript)")
            let xml = try await Self.virsh(["dumpxml", vm]).stdout
            #expect(xml.contains("commit=\"\(first)\""), "the marker names the full commit id: \(xml)")
            #expect(try await Self.markerCommit(vm) == first)
            #expect(try await Self.virsh(["domstate", vm]).stdout.contains("shut off"))

            let again = try await repo.plan(["--detailed-exitcode"], connect: uri)
            #expect(again.status == 0, "nothing to do after the apply: \(again.transcript)")

            let second = try await repo.commit("more memory", ["vms/vm.yaml": TinySpec.vm(vm, memory: "48MiB")])
            let changes = try await repo.plan(["--detailed-exitcode"], connect: uri)
            #expect(changes.status == 2, "\(changes.transcript)")
            #expect(changes.stdout.contains("update domain \(vm)") && changes.stdout.contains("commit \(CLIRepository.short(second))"),
                    "\(changes.transcript)")
            let update = try await repo.apply(connect: uri)
            #expect(update.status == 0, "\(update.transcript)")
            #expect(try await Self.markerCommit(vm) == second)
            #expect(try await Self.virsh(["dominfo", vm]).stdout.contains("49152 KiB"), "max memory 48 MiB")
            #expect(try await repo.plan(["--detailed-exitcode"], connect: uri).status == 0)
            #expect(try repo.lastApplied() == second)

            // Removing the VM from the spec removes it with --prune: virtsync cleans up after itself.
            try repo.git.delete("vms")
            try await repo.commit("remove \(vm)", ["networks.yaml": TinySpec.network(net)])
            let prune = try await repo.apply(["--prune", "--allow-mass-delete"], connect: uri)
            #expect(prune.status == 0, "\(prune.transcript)")
            #expect(try await !Self.virsh(["list", "--all", "--name"]).stdout.contains(vm))
            #expect(try await Self.virsh(["net-list", "--all", "--name"]).stdout.contains(net))
        }
    }

    @Test("a refused history rewrite changes nothing on the host")
    func rewriteRefusedTouchesNothing() async throws {
        let uri = try #require(Self.uri)
        let repo = try await CLIRepository()
        let vm = "\(repo.tag)-vm"
        try await Self.cleaningUp(domain: vm) {
            try await repo.commit("base", ["README.md": "specs\n"])
            let applied = try await repo.commit("add \(vm)", ["vms/vm.yaml": TinySpec.vm(vm)])
            #expect(try await repo.apply(connect: uri).status == 0)
            let xml = try await Self.virsh(["dumpxml", vm]).stdout

            try repo.git.write("vms/vm.yaml", TinySpec.vm(vm, memory: "64MiB"))
            let rewritten = try await repo.git.amend("add \(vm), rewritten")
            let refused = try await repo.apply(connect: uri)
            #expect(refused.status == 1 && refused.stderr.contains("history was rewritten"), "\(refused.transcript)")
            #expect(try await Self.virsh(["dumpxml", vm]).stdout == xml, "the domain was not touched")
            #expect(try await Self.markerCommit(vm) == applied)

            let allowed = try await repo.apply(["--allow-history-rewrite"], connect: uri)
            #expect(allowed.status == 0, "\(allowed.transcript)")
            #expect(try await Self.markerCommit(vm) == rewritten)
        }
    }
}
