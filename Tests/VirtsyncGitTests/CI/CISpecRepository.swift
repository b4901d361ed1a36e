import Foundation
import VirtsyncTestSupport

/// A spec repository as a forge holds it, for the CI examples: the spec under `clusters/prod`
/// (as in `examples/lab`, but tiny), a base branch `main`, and a change under review whose
/// commits are published only under a review ref (`refs/pull/N/head`, `refs/merge-requests/N/head`),
/// as a pull request from a fork is: on no branch of the repository.
final class CISpecRepository {
    /// The spec directory inside the repository.
    static let specPath = "clusters/prod"

    /// The git "remote" (the forge) and its working clone.
    let git: GitFixture
    /// The ref the change under review is published as.
    let reviewRef: String

    /// The first commit of `main`: Settings, an isolated network and the VM `web-1` (32 MiB).
    private(set) var initialCommit = ""

    init(reviewRef: String) async throws {
        self.reviewRef = reviewRef
        git = try await GitFixture()
        try git.write("\(Self.specPath)/settings.yaml", Self.settings)
        try git.write("\(Self.specPath)/networks.yaml", Self.network("prod-internal"))
        try git.write("\(Self.specPath)/vms/web-1.yaml", Self.vm("web-1"))
        try git.write("README.md", "The prod cluster.\n")
        initialCommit = try await git.commit("prod: web-1 on an isolated network")
    }

    /// Starts the change under review from `main` on the local branch `review` (never pushed as a branch).
    func startReview(at revision: String = "main") async throws {
        try await git.git("checkout", "-q", "-b", "review", revision)
    }

    /// Commits on the branch checked out (`review`) and publishes the commit under `reviewRef` only.
    @discardableResult
    func commitReview(_ message: String, signedBy key: SSHKey? = nil) async throws -> String {
        let id = try await git.commit(message, signedBy: key, push: false)
        try await git.git("push", "-q", "--force", "origin", "HEAD:\(reviewRef)")
        return id
    }

    /// Commits on `main` (switching to it and back) and pushes: the base branch moving on.
    @discardableResult
    func commitMain(_ message: String, _ edit: () throws -> Void) async throws -> String {
        let branch = try await git.currentBranch()
        try await git.checkout("main")
        try edit()
        let id = try await git.commit(message)
        try await git.checkout(branch)
        return id
    }

    /// A checkout as a CI runner makes it, always at the same path (the plan names it): a new
    /// repository that fetches every branch and tag and the review ref with the whole history, then
    /// checks out `head` detached; no local branch. With `depth`, a shallow fetch instead (what a
    /// CI checkout does by default).
    func ciCheckout(head: String, depth: Int? = nil) async throws -> String {
        let path = try git.scratchPath("workspace")
        try? FileManager.default.removeItem(atPath: path)
        try await git.git(["init", "-q", path], in: git.directory.path)
        try await git.git(["remote", "add", "origin", "file://" + git.remotePath], in: path)
        let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                        "+\(reviewRef):refs/remotes/\(reviewRef.dropFirst("refs/".count))"]
        try await git.git(["fetch", "-q"] + (depth.map { ["--depth", "\($0)"] } ?? []) + ["origin"] + refspecs, in: path)
        try await git.git(["checkout", "-q", "--detach", head], in: path)
        return path
    }

    /// Copies `examples/ci/run-plan.sh` and `post-plan-comments.sh` to `.virtsync/ci/` of `checkout`,
    /// where the workflows expect them (left untracked: what matters is that they are there).
    func installScripts(into checkout: String) throws {
        let target = URL(fileURLWithPath: checkout).appendingPathComponent(".virtsync/ci")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for name in ["run-plan.sh", "post-plan-comments.sh"] {
            try FileManager.default.copyItem(at: CIExamples.url(name), to: target.appendingPathComponent(name))
        }
    }

    // MARK: Spec documents

    static let settings = """
        apiVersion: virtsync/v1
        kind: Settings
        prune: true

        """

    /// A VirtualMachine document: no disk, no NIC, the qboot firmware, stopped.
    static func vm(_ name: String, memory: String = "32MiB") -> String {
        """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(name)
        vcpus: 1
        memory: \(memory)
        machine: pc
        loader: /usr/share/qemu/qboot.rom
        power: stopped

        """
    }

    /// An isolated Network document without addresses.
    static func network(_ name: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Network
        name: \(name)
        mode: isolated
        autostart: false

        """
    }

    /// A VirtualMachine document with two errors: line 4 (`vcpus`) and line 5 (`memory`).
    static let invalidVM = """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: broken
        vcpus: many
        memory: 1

        """
}
