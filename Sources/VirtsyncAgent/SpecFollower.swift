import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

/// A commit's spec, validated and cut down to this host.
package struct LoadedCommit: Sendable {
    var commit: CommitInfo
    var signer: Signer?
    /// Only this host, with the agent's libvirt URI.
    var desired: DesiredState
}

/// Why the newest commit is not applied.
struct Refusal: Sendable, Equatable {
    var commit: String?
    /// PascalCase: `InvalidSpec`, `SignatureRefused`, `HistoryRewriteRefused`, `MassDeleteRefused`,
    /// `HostNotInSpec`, `RefNotFound`, `AuthenticationFailed`, `FetchFailed`.
    var reason: String
    var message: String
    var failureClass: FailureClass
    /// Where in the spec the first error is, for an invalid spec.
    var location: SourceLocation? = nil
}

/// What the follower found at the head of the ref.
enum HeadResult: Sendable {
    /// A valid commit (the same as last time, or a new one now loaded).
    case valid(LoadedCommit)
    /// The head is refused; the last good commit is still enforced.
    case refused(Refusal)
}

/// Follows the spec repository: fetches, resolves the ref, verifies and loads a new head, and
/// remembers the last good commit so a bad one is never applied while the good one keeps being
/// enforced. A commit already loaded (or already refused) is not read again.
package final class SpecFollower: @unchecked Sendable {
    // Used by one pass at a time (the loop runs one pass at once); no lock needed beyond that.
    let config: AgentConfig
    let source: RepositorySource
    let records: SourceRecordStore
    /// The key of this source's record in `sources.json`.
    let recordKey: String
    /// The repository's identity (`RemoteURL.identity`), for the derived owner.
    let repositoryIdentity: String
    private(set) var good: LoadedCommit?
    private var refusedHead: Refusal?

    package init(config: AgentConfig, source: RepositorySource, records: SourceRecordStore, recordKey: String, repositoryIdentity: String) {
        self.repositoryIdentity = repositoryIdentity
        self.config = config
        self.source = source
        self.records = records
        self.recordKey = recordKey
    }

    var lastApplied: CommitID? { records.record(recordKey)?.lastApplied.flatMap(CommitID.init) }

    /// Fetches and looks at the head. Throws only for transient trouble reaching the remote
    /// (the caller still enforces the last good commit).
    func head() async -> HeadResult {
        do {
            let repository = source.repository
            _ = try await offCooperativePool { try repository.fetch() }
        } catch let error as GitError {
            return .refused(Self.fetchRefusal(error))
        } catch {
            return .refused(Refusal(commit: nil, reason: "FetchFailed", message: "\(error)", failureClass: .transient))
        }
        let head: CommitID
        do {
            head = try source.repository.resolve(config.source.ref)
        } catch let error as GitError {
            if error.kind == .notFound {
                return .refused(Refusal(commit: nil, reason: "RefNotFound", message: error.message, failureClass: .stalled))
            }
            return .refused(Self.fetchRefusal(error))
        } catch {
            return .refused(Refusal(commit: nil, reason: "FetchFailed", message: "\(error)", failureClass: .transient))
        }
        if let good, good.commit.id == head { return .valid(good) }
        if let refusedHead, refusedHead.commit == head.hex { return .refused(refusedHead) }
        switch await load(head, checkHistory: true) {
        case .valid(let loaded):
            return .valid(loaded)
        case .refused(let refusal):
            // Remember only what a retry cannot change; a transient read failure is tried again.
            if refusal.failureClass == .stalled { refusedHead = refusal }
            return .refused(refusal)
        }
    }

    /// The commit to enforce when the head is refused: the last good one, read again from the
    /// cache after an agent restart.
    func fallback() async -> LoadedCommit? {
        if let good { return good }
        guard let last = lastApplied, source.repository.has(last) else { return nil }
        if case .valid(let loaded) = await load(last, checkHistory: false) {
            good = loaded
            return loaded
        }
        return nil
    }

    /// The head passed every check, including the plan's: it becomes the last good commit.
    func accept(_ loaded: LoadedCommit) {
        good = loaded
        refusedHead = nil
    }

    /// The head was refused after loading (a mass delete): remember it so it is not re-read.
    func refuse(_ refusal: Refusal) {
        refusedHead = refusal
    }

    private func load(_ commit: CommitID, checkHistory: Bool) async -> HeadResult {
        let read: CommitSpec
        do {
            read = try await source.read(ref: commit.hex, path: config.source.path, lastApplied: checkHistory ? lastApplied : nil, fetch: false)
        } catch let error as GitError {
            let reason = error.kind == .other ? "SignatureRefused" : error.kind == .notFound ? "RefNotFound" : "FetchFailed"
            let failureClass: FailureClass = reason == "FetchFailed" ? .transient : .stalled
            return .refused(Refusal(commit: commit.hex, reason: reason, message: error.message, failureClass: failureClass))
        } catch {
            return .refused(Refusal(commit: commit.hex, reason: "FetchFailed", message: "\(error)", failureClass: .transient))
        }
        if let rewrite = read.historyRewrite, !config.allowHistoryRewrite {
            return .refused(Refusal(commit: commit.hex, reason: "HistoryRewriteRefused",
                                    message: "\(rewrite); set reconcile.allowHistoryRewrite or apply it once by hand with --allow-history-rewrite",
                                    failureClass: .stalled))
        }
        let (loaded, diagnostics) = SpecLoader.load(files: read.files, readDiagnostics: read.readDiagnostics, commit: read.commit.id.hex, path: config.source.path)
        guard var desired = loaded else {
            let errors = diagnostics.items.filter { $0.severity == .error }
            let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
            return .refused(Refusal(commit: commit.hex, reason: "InvalidSpec",
                                    message: "commit \(commit.short): \(errors.first.map { "\($0)" } ?? "invalid spec")\(more)",
                                    failureClass: .stalled, location: errors.first?.location))
        }
        SpecOwner.assign(&desired, derived: SpecOwner.repository(identity: repositoryIdentity, path: config.source.path))
        guard var own = desired.host(named: config.host) else {
            let names = desired.hosts.map(\.name).joined(separator: ", ")
            return .refused(Refusal(commit: commit.hex, reason: "HostNotInSpec",
                                    message: "commit \(commit.short) has no host named \(config.host) (hosts: \(names)); nothing is applied, nothing is removed",
                                    failureClass: .stalled))
        }
        own.uri = config.libvirtURI
        guard !desired.machines.isEmpty else {
            // Every VM is pinned to a host already: this host's part is all the agent needs.
            var mine = DesiredState(hosts: [own], settings: desired.settings, specDigest: desired.specDigest, commit: commit.hex,
                                    owner: desired.owner, adopt: desired.adopt)
            // This host's VMs keep their secrets to read (and stay held until they are read).
            let names = Set(own.domains.map(\.name))
            mine.secrets = desired.secrets
            mine.pendingSecrets = desired.pendingSecrets.filter { names.contains($0.key) }
            let volumes = Set(own.secretObjects.map(\.consumer))
            mine.pendingVolumeSecrets = desired.pendingVolumeSecrets.filter { volumes.contains($0.key) }
            mine.held = desired.held.filter {
                switch $0.kind {
                case .domain: return names.contains($0.name)
                case .volume, .secret: return volumes.contains($0.name)
                case .pool:
                    let held = $0.name
                    return own.pools.contains { $0.name == held }
                case .network: return true
                }
            }
            return .valid(LoadedCommit(commit: read.commit, signer: read.signer, desired: mine))
        }
        // Several hosts: placement needs the whole cluster; the pass acts only on this host.
        var cluster = desired
        cluster.commit = commit.hex
        cluster.hosts = desired.hosts.map { $0.name == config.host ? own : $0 }
        return .valid(LoadedCommit(commit: read.commit, signer: read.signer, desired: cluster))
    }

    private static func fetchRefusal(_ error: GitError) -> Refusal {
        switch error.kind {
        case .authentication, .hostVerification:
            return Refusal(commit: nil, reason: "AuthenticationFailed", message: error.message, failureClass: .stalled)
        default:
            return Refusal(commit: nil, reason: "FetchFailed", message: error.message, failureClass: .transient)
        }
    }
}
