import Foundation
import VirtsyncTestSupport
import VirtsyncGit

/// A spec repository and a state directory of its own, driven through the `virtsync` binary.
///
/// Wraps a `GitFixture` (bare remote plus working clone) and gives each test its own state
/// directory (the bare cache under `git/`, `sources.json`, the inventory and the lock), so tests
/// never share a cache and can run in parallel. Commands name the remote as a plain path unless
/// told otherwise, and plan and apply go to libvirt's in-process test driver unless told otherwise.
final class CLIRepository {
    /// libvirt's test driver: a fresh, fixed hypervisor inside each virtsync process.
    static let testURI = "test:///default"
    /// The real libvirtd of the system tests (set by scripts/test.sh), or nil: those tests are off.
    static let systemURI = ProcessInfo.processInfo.environment["VIRTSYNC_SYSTEM_URI"]

    /// The remote and the working clone.
    let git: GitFixture
    /// This test's state directory.
    let stateDir: String
    /// A unique prefix for resource names (`gt-` + random).
    let tag: String

    /// A fresh empty remote and state directory.
    init() async throws {
        git = try await GitFixture()
        stateDir = try git.scratchPath("state")
        tag = TinySpec.uniqueTag()
    }

    /// The 12-character form of a commit id that virtsync prints.
    static func short(_ id: String) -> String { String(id.prefix(12)) }

    /// The remote as the tests name it by default (a plain absolute path).
    var url: String { git.url }

    /// Writes `files` (path → text) into the working clone, commits (signed when `key` is
    /// given) and pushes; returns the full commit id.
    @discardableResult
    func commit(_ message: String, _ files: [String: String] = [:], signedBy key: SSHKey? = nil) async throws -> String {
        for (path, text) in files { try git.write(path, text) }
        return try await git.commit(message, signedBy: key)
    }

    /// `virtsync validate --repo URL --state-dir DIR` plus `arguments`.
    func validate(_ arguments: [String] = [], repo: String? = nil) async throws -> CommandResult {
        try await VirtsyncBinary.run(["validate", "--repo", repo ?? url, "--state-dir", stateDir] + arguments)
    }

    /// `virtsync plan --repo URL --state-dir DIR [--connect URI]` plus `arguments`.
    func plan(_ arguments: [String] = [], repo: String? = nil, connect: String? = testURI) async throws -> CommandResult {
        try await VirtsyncBinary.run(["plan", "--repo", repo ?? url, "--state-dir", stateDir, "--no-color"]
                                     + (connect.map { ["--connect", $0] } ?? []) + arguments)
    }

    /// A review plan: `virtsync plan --repo URL --base BASE --head HEAD` plus `arguments`; no host.
    func reviewPlan(base: String, head: String, _ arguments: [String] = []) async throws -> CommandResult {
        try await plan(["--base", base, "--head", head] + arguments, connect: nil)
    }

    /// `virtsync apply --repo URL --state-dir DIR --connect URI --auto-approve` plus `arguments`.
    func apply(_ arguments: [String] = [], repo: String? = nil, connect: String = testURI) async throws -> CommandResult {
        try await VirtsyncBinary.run(["apply", "--repo", repo ?? url, "--state-dir", stateDir, "--no-color",
                                      "--connect", connect, "--auto-approve"] + arguments)
    }

    /// The last applied commit recorded in the state directory for `repo` and `path`, if any.
    func lastApplied(repo: String? = nil, path: String = ".") throws -> String? {
        try record(repo: repo, path: path)?["lastApplied"] as? String
    }

    /// The raw record of `repo` and `path` in `sources.json`, if the file and the record exist.
    func record(repo: String? = nil, path: String = ".") throws -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: stateDir + "/sources.json") else { return nil }
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let sources = root?["sources"] as? [String: Any]
        let inner = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let identity = (try? RemoteURL(repo ?? url).identity) ?? (repo ?? url)
        return sources?["\(identity)#\(inner)"] as? [String: Any]
    }
}
