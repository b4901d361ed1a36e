import Foundation

/// A real git "remote" in a fresh temporary directory, driven with the git CLI.
///
/// Layout: `remote.git` is a bare repository (what the code under test clones and fetches from,
/// via `url` or `fileURL`); `work/` is a working clone whose `origin` is that bare repository.
/// Edits happen in `work/`, and `commit`, `tag`, `branch`, `amend` push to the remote by default,
/// so the remote always shows what a forge would. A history rewrite is a force-push.
///
/// Git never reads the machine's configuration: `HOME` is a private folder, `GIT_CONFIG_NOSYSTEM=1`,
/// and author, committer and dates are fixed. The date advances one minute per commit or annotated
/// tag, so the same sequence of unsigned commits gives the same ids on every run. Everything is
/// removed when the fixture is released. Not for concurrent use from several tasks.
public final class GitFixture {
    /// Author and committer name of every commit.
    public static let authorName = "Virtsync Test"
    /// Author and committer email of every commit; the principal in allowed-signers files.
    public static let authorEmail = "test@virtsync.invalid"
    /// Unix time of the first commit (2024-01-01T00:00:00Z).
    public static let epoch = 1_704_067_200

    /// The temporary directory holding everything.
    public let directory: ScratchDirectory
    /// Absolute path of the bare remote repository.
    public let remotePath: String
    /// Absolute path of the working clone that edits and pushes.
    public let workPath: String
    private var clock = 0

    /// Creates an empty bare remote (default branch `main`) and an empty working clone of it.
    public init() async throws {
        directory = try ScratchDirectory(prefix: "git")
        remotePath = directory.path("remote.git")
        workPath = directory.path("work")
        let home = try directory.makeDirectory("home")
        let config = """
            [init]
            \tdefaultBranch = main
            [user]
            \tname = \(Self.authorName)
            \temail = \(Self.authorEmail)
            [advice]
            \tdetachedHead = false
            """
        try Data((config + "\n").utf8).write(to: URL(fileURLWithPath: home + "/.gitconfig"))
        try await git(["init", "-q", "--bare", remotePath], in: directory.path)
        try await git(["init", "-q", workPath], in: directory.path)
        try await git("remote", "add", "origin", remotePath)
    }

    /// The remote as a plain absolute path.
    public var url: String { remotePath }

    /// The remote as a `file://` URL.
    public var fileURL: String { "file://" + remotePath }

    /// The environment every git command of the fixture runs with (pass it on to your own git runs).
    public var environment: [String: String] {
        let date = "\(Self.epoch + clock * 60) +0000"
        return [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": directory.path("home"),
            "XDG_CONFIG_HOME": directory.path("home/.config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
            "GIT_AUTHOR_NAME": Self.authorName, "GIT_AUTHOR_EMAIL": Self.authorEmail,
            "GIT_COMMITTER_NAME": Self.authorName, "GIT_COMMITTER_EMAIL": Self.authorEmail,
            "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
        ]
    }

    /// A path inside the fixture's directory for the test's own use (parents created, leaf not).
    public func scratchPath(_ name: String) throws -> String {
        try directory.makeDirectory("scratch")
        return directory.path("scratch/\(name)")
    }

    // MARK: Running git

    /// Runs git in the working clone; returns stdout without its trailing newline; throws with stderr.
    @discardableResult
    public func git(_ arguments: String...) async throws -> String {
        try await git(arguments)
    }

    /// Runs git in `directory` (default: the working clone) with extra environment variables;
    /// returns stdout without its trailing newline and throws `FixtureError` if git fails.
    @discardableResult
    public func git(_ arguments: [String], in directory: String? = nil,
                    environment extra: [String: String] = [:]) async throws -> String {
        let result = try await gitResult(arguments, in: directory, environment: extra)
        guard result.succeeded else {
            throw FixtureError(command: ["git"] + arguments, status: result.status,
                               stderr: result.stderr, stdout: result.stdout)
        }
        return result.stdout.hasSuffix("\n") ? String(result.stdout.dropLast()) : result.stdout
    }

    /// Runs git like `git(_:in:environment:)` but returns the result instead of throwing on failure.
    public func gitResult(_ arguments: [String], in directory: String? = nil,
                          environment extra: [String: String] = [:]) async throws -> CommandResult {
        try await Command.run("git", arguments, in: directory ?? workPath,
                              environment: environment.merging(extra) { $1 })
    }

    // MARK: History

    /// Stages everything in the working clone, commits (signed when `key` is given) and, unless
    /// `push` is false, pushes the current branch. Returns the full commit id.
    @discardableResult
    public func commit(_ message: String, signedBy key: SSHKey? = nil, push: Bool = true) async throws -> String {
        try await git("add", "-A")
        clock += 1
        try await git(signing(key) + ["commit", "-q", "--allow-empty", "-m", message] + (key == nil ? [] : ["-S"]))
        if push { try await self.push() }
        return try await git("rev-parse", "HEAD")
    }

    /// Rewrites the last commit with the current working tree (and `message`, if given), then
    /// force-pushes the current branch unless `push` is false. Returns the new commit id.
    @discardableResult
    public func amend(_ message: String? = nil, signedBy key: SSHKey? = nil, push: Bool = true) async throws -> String {
        try await git("add", "-A")
        clock += 1
        let text = message.map { ["-m", $0] } ?? ["--no-edit"]
        try await git(signing(key) + ["commit", "-q", "--amend", "--allow-empty"] + text + (key == nil ? [] : ["-S"]))
        if push { try await self.push(force: true) }
        return try await git("rev-parse", "HEAD")
    }

    /// Moves the current branch to `revision` (discarding later commits) and force-pushes it.
    public func resetHard(to revision: String, push: Bool = true) async throws {
        try await git("reset", "-q", "--hard", revision)
        if push { try await self.push(force: true) }
    }

    /// Pushes the current branch (`branch`, if given) to the remote, optionally with `--force`.
    public func push(_ branch: String? = nil, force: Bool = false) async throws {
        let name = if let branch { branch } else { try await currentBranch() }
        try await git(["push", "-q"] + (force ? ["--force"] : []) + ["origin", "refs/heads/\(name):refs/heads/\(name)"])
    }

    /// Creates branch `name` at `revision` (not switching to it) and pushes it unless `push` is false.
    public func branch(_ name: String, at revision: String = "HEAD", push: Bool = true) async throws {
        try await git("branch", name, revision)
        if push { try await self.push(name) }
    }

    /// Switches the working clone to the existing local branch `name`.
    public func checkout(_ name: String) async throws {
        try await git("checkout", "-q", name)
    }

    /// Deletes branch `name` on the remote (and locally, unless it is checked out).
    public func deleteBranch(_ name: String) async throws {
        try await git("push", "-q", "origin", "--delete", "refs/heads/\(name)")
        if try await currentBranch() != name { try await git("branch", "-q", "-D", name) }
    }

    /// Tags `revision`: lightweight without `message` and `key`, annotated with a message, signed
    /// with a key. `force` moves an existing tag. Pushes unless `push` is false. Returns the id
    /// the tag ref points to (the tag object for annotated tags, the commit for lightweight ones).
    @discardableResult
    public func tag(_ name: String, at revision: String = "HEAD", message: String? = nil, signedBy key: SSHKey? = nil,
                    force: Bool = false, push: Bool = true) async throws -> String {
        var arguments = signing(key) + ["tag"] + (force ? ["-f"] : [])
        if key != nil {
            arguments += ["-s", "-m", message ?? name]
        } else if let message {
            arguments += ["-a", "-m", message]
        }
        if key != nil || message != nil { clock += 1 }
        try await git(arguments + [name, revision])
        if push { try await git(["push", "-q"] + (force ? ["--force"] : []) + ["origin", "refs/tags/\(name)"]) }
        return try await git("rev-parse", "refs/tags/\(name)")
    }

    /// The commit id of `branch` in the remote repository.
    public func head(of branch: String = "main") async throws -> String {
        try await git(["rev-parse", "--verify", "refs/heads/\(branch)^{commit}"], in: remotePath)
    }

    /// The branch checked out in the working clone.
    public func currentBranch() async throws -> String {
        try await git("symbolic-ref", "--short", "HEAD")
    }

    /// `-c` options that make git sign with `key` in SSH format (none when `key` is nil).
    public func signing(_ key: SSHKey?) -> [String] {
        guard let key else { return [] }
        return ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key.privateKeyPath)"]
    }
}
