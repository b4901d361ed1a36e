import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncGit
import VirtsyncSpec

/// Where the spec comes from: a directory, or a git repository (`--repo`, `--ref`, `--path`).
struct SourceOptions: ParsableArguments {
    @Argument(help: "The spec directory (or a single .yaml file). Not with --repo.")
    var directory: String?

    @Option(name: .long, help: "Read the spec from this git repository: a path, file://, ssh://, user@host:path or https:// URL.")
    var repo: String?

    @Option(name: .long, help: "Branch, tag or commit of --repo (default: the remote's default branch).")
    var ref: String?

    @Option(name: .long, help: "The spec directory inside --repo (. is its root).")
    var path: String = "."

    @Option(name: .long, help: "Verify SSH commit signatures against this OpenSSH allowed-signers file: the commit and every commit since the last applied one.")
    var allowedSigners: String?

    @Option(name: .long, help: "SSH private key for ssh:// remotes (default: the ssh-agent at SSH_AUTH_SOCK).")
    var sshKey: String?

    @Option(name: .long, help: "known_hosts file the SSH server's host key must be in (default: ~/.ssh/known_hosts).")
    var knownHosts: String?

    @Option(name: .long, help: "User name sent with an HTTPS token (default: git).")
    var httpsUser: String?

    @Option(name: .long, help: "File holding the HTTPS token or password (mode 600).")
    var tokenFile: String?

    @Option(name: .long, help: "Environment variable holding the HTTPS token or password.")
    var tokenEnv: String?

    @Option(name: .long, help: "PEM file of the certificate authorities an https:// remote is checked against (default: the system's).")
    var caFile: String?

    @Option(name: .long, help: "Seconds a fetch may take before it is abandoned.")
    var fetchTimeout: Int = 60

    /// Refuses a command line that names no source.
    func requireSource() throws {
        if repo == nil && directory == nil { throw ValidationError("give the spec directory, or --repo URL") }
    }

    func validate() throws {
        if repo != nil && directory != nil { throw ValidationError("give either a spec directory or --repo, not both") }
        if repo == nil {
            for (flag, value) in [("--ref", ref), ("--allowed-signers", allowedSigners), ("--ssh-key", sshKey), ("--token-file", tokenFile), ("--token-env", tokenEnv)] where value != nil {
                throw ValidationError("\(flag) needs --repo")
            }
        }
        if tokenFile != nil && tokenEnv != nil { throw ValidationError("give --token-file or --token-env, not both") }
        for (flag, file) in [("--ca-file", caFile), ("--ssh-key", sshKey), ("--known-hosts", knownHosts)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) { throw ValidationError("\(flag): cannot read \(file)") }
        }
        if fetchTimeout < 1 { throw ValidationError("--fetch-timeout must be at least 1 second") }
    }

    /// A label for messages: the directory, or `URL (path)`.
    var label: String { repo.map { "\($0)\(path == "." ? "" : " (\(path))")" } ?? directory ?? "" }
}

/// Where a spec read from git came from.
struct Provenance {
    var repository: String
    var path: String
    var commit: CommitInfo
    var signer: Signer?
    var historyRewrite: String?
    /// The repository however it was named (`RemoteURL.identity`).
    var identity: String
    /// The key of the source's record in the state directory.
    var key: String { SourceRecordStore.key(repository: identity, path: path) }
}

/// A spec loaded from either kind of source.
struct LoadedSpec {
    var desired: DesiredState?
    var diagnostics: Diagnostics
    var provenance: Provenance?
}

extension Frontend {
    /// The repository cache and source for `--repo`.
    static func repositorySource(_ options: SourceOptions, stateDir: String, verify: Bool = true) throws -> RepositorySource {
        guard let repo = options.repo else { throw ValidationError("--repo is missing") }
        let settings = GitSourceSettings(remote: try RemoteURL(repo), sshKey: options.sshKey, knownHosts: options.knownHosts,
                                         httpsUser: options.httpsUser, tokenFile: options.tokenFile, tokenEnv: options.tokenEnv,
                                         caFile: options.caFile, allowedSigners: options.allowedSigners,
                                         fetchTimeout: .seconds(options.fetchTimeout))
        return try settings.source(stateDirectory: stateDir, verify: verify)
    }

    /// Loads the spec from the directory or the repository. For a repository, `lastApplied`
    /// starts signature verification and the history check.
    static func load(_ options: SourceOptions, stateDir: String, ref: String? = nil, lastApplied: String? = nil) async throws -> LoadedSpec {
        guard options.repo != nil else {
            let directory = options.directory ?? "."
            var (desired, diagnostics) = load(directory)
            if desired != nil { SpecOwner.assign(&desired!, derived: SpecOwner.directory(directory)) }
            return LoadedSpec(desired: desired, diagnostics: diagnostics, provenance: nil)
        }
        let source = try repositorySource(options, stateDir: stateDir)
        let read = try await source.read(ref: ref ?? options.ref, path: options.path, lastApplied: lastApplied.flatMap(CommitID.init))
        return loaded(read, options: options, repository: source.repository.displayURL)
    }

    /// Validates the files of one commit and names their files relative to the repository root.
    static func loaded(_ read: CommitSpec, options: SourceOptions, repository: String) -> LoadedSpec {
        var (desired, diagnostics) = SpecLoader.load(files: read.files, readDiagnostics: read.readDiagnostics, commit: read.commit.id.hex, path: options.path)
        let identity = (try? RemoteURL(options.repo ?? repository).identity) ?? repository
        if desired != nil { SpecOwner.assign(&desired!, derived: SpecOwner.repository(identity: identity, path: options.path)) }
        let provenance = Provenance(repository: repository, path: options.path, commit: read.commit,
                                    signer: read.signer, historyRewrite: read.historyRewrite, identity: identity)
        return LoadedSpec(desired: desired, diagnostics: diagnostics, provenance: provenance)
    }

    /// Fills the plan's basis with what git told: the repository, the signer.
    static func annotate(_ plan: inout Plan, _ provenance: Provenance?) {
        guard let provenance else { return }
        plan.basis.repository = provenance.repository + (provenance.path == "." ? "" : " (\(provenance.path))")
        plan.basis.signer = provenance.signer?.description
        plan.basis.options["path"] = provenance.path
        if let rewrite = provenance.historyRewrite {
            plan.notes.append(PlanNote(severity: .warning, message: "\(rewrite); apply refuses it without --allow-history-rewrite"))
        }
    }
}
