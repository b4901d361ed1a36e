import VirtsyncCore

/// A spec read from a commit: the files, the commit, and what was verified about it.
public struct CommitSpec: Sendable {
    public var commit: CommitInfo
    public var files: [SpecFile]
    /// Problems reading the tree (symbolic links, huge or binary files), paths relative to the
    /// spec directory.
    public var readDiagnostics: Diagnostics
    /// The verified signer of `commit`, when a verifier was given.
    public var signer: Signer?
    /// Every commit whose signature was verified, oldest first.
    public var verified: [CommitID]
    /// Set when `commit` does not descend from the last applied commit (a force-push, or a
    /// ref moved back): why, in words. Applying such a commit needs an explicit permission.
    public var historyRewrite: String?
    /// The fetch, when one was made.
    public var fetch: FetchSummary?
}

/// Reads a spec from a repository through the `SpecRepository` port: fetch, resolve the ref,
/// check the history against the last applied commit, verify signatures, read the tree.
/// Nothing here knows libgit2.
public struct RepositorySource: Sendable {
    public let repository: any SpecRepository
    public let verifier: (any SignatureVerifier)?
    /// Longest history verified in one go.
    public var maxCommitsToVerify = 10_000

    public init(repository: any SpecRepository, verifier: (any SignatureVerifier)?) {
        self.repository = repository
        self.verifier = verifier
    }

    /// The spec at `ref` (a branch, tag or commit; nil for the remote's default branch) in
    /// directory `path`.
    ///
    /// - Parameters:
    ///   - lastApplied: the commit applied last from this source, if any. Every commit after it
    ///     up to the new one is verified, and a new commit that does not descend from it is
    ///     reported in `historyRewrite`.
    ///   - verifySince: for review plans, the base commit: every commit after it is verified.
    ///   - fetch: fetch first (false for a second read of the same fetch).
    public func read(ref: String?, path: String, lastApplied: CommitID? = nil, verifySince: CommitID? = nil,
                     fetch: Bool = true) async throws -> CommitSpec {
        do {
            let repository = repository
            return try await attempt(ref: ref, path: path, lastApplied: lastApplied, verifySince: verifySince,
                                     fetchSummary: fetch ? try await offCooperativePool { try repository.fetch() } : nil)
        } catch let error as GitError where error.kind == .cache {
            // A damaged object or ref found while reading: fetch everything again, once.
            let repository = repository
            let summary = try await offCooperativePool { try repository.rebuild() }
            return try await attempt(ref: ref, path: path, lastApplied: lastApplied, verifySince: verifySince, fetchSummary: summary)
        }
    }

    private func attempt(ref: String?, path: String, lastApplied: CommitID?, verifySince: CommitID?,
                         fetchSummary: FetchSummary?) async throws -> CommitSpec {
        let head = try repository.resolve(ref)
        let info = try repository.info(head)
        let label = ref.map { "'\($0)' (\(head.short))" } ?? "the default branch (\(head.short))"

        var rewrite: String?
        var since = verifySince
        if let last = lastApplied, last != head {
            if !repository.has(last) {
                rewrite = "the last applied commit \(last.short) is no longer in \(repository.displayURL): history was rewritten (force-push?)"
            } else if try !repository.contains(head, ancestor: last) {
                if try repository.contains(last, ancestor: head) {
                    rewrite = "\(label) is an ancestor of the last applied commit \(last.short): the ref moved back (force-push or a pinned older commit)"
                } else {
                    rewrite = "\(label) does not descend from the last applied commit \(last.short): history was rewritten (force-push?)"
                }
            }
            if since == nil {
                since = rewrite == nil ? last : (repository.has(last) ? try repository.mergeBase(last, head) : nil)
            }
        }

        var signer: Signer?
        var verified: [CommitID] = []
        if let verifier {
            let range: [CommitID]
            if let since, since != head {
                range = try repository.commits(from: since, to: head, limit: maxCommitsToVerify)
            } else {
                range = [head]
            }
            for commit in range {
                let commitInfo = commit == head ? info : try repository.info(commit)
                let who = try await verifier.verify(try repository.signature(of: commit), of: commitInfo)
                if commit == head { signer = who }
                verified.append(commit)
            }
            if signer == nil {   // head == since: it was applied before; show who signed it
                signer = try await verifier.verify(try repository.signature(of: head), of: info)
                verified.append(head)
            }
        }

        let (files, diagnostics) = try repository.files(at: head, path: path)
        return CommitSpec(commit: info, files: files, readDiagnostics: diagnostics, signer: signer,
                          verified: verified, historyRewrite: rewrite, fetch: fetchSummary)
    }
}

