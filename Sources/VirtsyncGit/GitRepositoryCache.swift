import CLibgit2
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The spec repository port over libgit2: a bare cache of the remote in the state directory,
/// fetched into and read from commits' trees, with no working tree.
///
/// The cache keeps the remote's branches as `refs/remotes/origin/*`, its tags as `refs/tags/*`
/// and its default branch as the symbolic ref `refs/remotes/origin/HEAD`. Refs deleted on the
/// remote are deleted from the cache; objects are never pruned, so a commit that a force-push
/// rewrote away can still be compared with the new history.
public final class GitRepositoryCache: SpecRepository, @unchecked Sendable {
    // `lock` guards `handle`; libgit2 objects are used by one thread at a time.
    public let remote: RemoteURL
    public let path: String
    let credentials: GitCredentials
    let fetchTimeout: Duration
    private let lock = NSLock()
    private var handle: GitHandle?

    /// A cache of `remote` in `cacheDirectory` (created when missing), fetching with
    /// `credentials` and giving up on a fetch after `fetchTimeout`.
    public init(remote: RemoteURL, cacheDirectory: String, credentials: GitCredentials = GitCredentials(),
                fetchTimeout: Duration = .seconds(60)) {
        Libgit2.ensureInitialised()
        if let caFile = credentials.caFile { Libgit2.trust(caFile: caFile) }
        self.remote = remote
        self.path = Self.cachePath(for: remote, in: cacheDirectory)
        self.credentials = credentials
        self.fetchTimeout = fetchTimeout
    }

    /// `<dir>/<last path component>-<12 hex digits of the URL's SHA-256>.git`.
    public static func cachePath(for remote: RemoteURL, in directory: String) -> String {
        let base = (remote.identity as NSString).lastPathComponent
        let cleaned = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(40))
        let name = cleaned.hasSuffix("_git") ? String(cleaned.dropLast(4)) : cleaned
        return directory + "/" + (name.isEmpty ? "repo" : name) + "-" + String(Digest.sha256Hex(Array(remote.identity.utf8)).prefix(12)) + ".git"
    }

    public var displayURL: String { remote.description }

    // MARK: fetch

    public func fetch() throws -> FetchSummary {
        lock.lock()
        handle = nil   // reopened after the fetch, to see its refs and packs
        lock.unlock()
        let context = FetchContext(remote: remote, credentials: credentials, deadline: .now + fetchTimeout)
        do {
            return try runAbandonable(context) { try GitFetcher(path: self.path, context: context).fetch(rebuilt: false) }
        } catch let error as GitError where error.kind == .cache {
            // Damaged cache: set it aside and fetch everything again, once.
            return try rebuild()
        }
    }

    public func rebuild() throws -> FetchSummary {
        try discardCache()
        let context = FetchContext(remote: remote, credentials: credentials, deadline: .now + fetchTimeout)
        return try runAbandonable(context) { try GitFetcher(path: self.path, context: context).fetch(rebuilt: true) }
    }

    /// Removes the cache directory (after a damaged cache was detected).
    func discardCache() throws {
        lock.lock()
        handle = nil
        lock.unlock()
        let aside = path + ".damaged-\(getpid())"
        try? FileManager.default.removeItem(atPath: aside)
        if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.moveItem(atPath: path, toPath: aside)
            try? FileManager.default.removeItem(atPath: aside)
        }
    }

    /// Runs `body` on its own thread and waits at most until the context's deadline (plus a
    /// second): libgit2 cannot time out a connect, so a fetch that hangs is abandoned.
    private func runAbandonable(_ context: FetchContext, _ body: @escaping @Sendable () throws -> FetchSummary) throws -> FetchSummary {
        final class Box: @unchecked Sendable {
            var result: Result<FetchSummary, Error>?
            let done = DispatchSemaphore(value: 0)
        }
        let box = Box()
        let thread = Thread {
            box.result = Result { try body() }
            box.done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        let wait = context.deadline - .now + .seconds(1)
        let nanos = max(Int64(0), wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000)
        guard box.done.wait(timeout: .now() + .nanoseconds(Int(nanos))) == .success, let result = box.result else {
            throw GitError(.timeout, "fetch from \(remote) did not finish within \(fetchTimeout) (host down or not answering?)")
        }
        if case .failure(let error as GitError) = result, let refusal = context.refusal, error.kind != .cache {
            throw refusal
        }
        return try result.get()
    }

    // MARK: reading

    /// The open repository, opened on first use.
    func repository() throws -> OpaquePointer {
        if let handle { return handle.pointer }
        var repo: OpaquePointer?
        let code = git_repository_open_bare(&repo, path)
        guard code >= 0, let repo else {
            if code == GIT_ENOTFOUND.rawValue {
                throw GitError(.notFound, "no cache of \(remote) yet: it has not been fetched")
            }
            throw GitError.last(code, "cannot open the cache \(path)")
        }
        handle = GitHandle(repo, free: git_repository_free)
        return repo
    }

    func locked<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(try repository())
    }

    public func resolve(_ ref: String?) throws -> CommitID {
        try locked { repo in
            guard let ref else {
                guard let id = try peeledCommit(repo, reference: "refs/remotes/origin/HEAD") else {
                    throw GitError(.notFound, "\(remote) has no default branch (its HEAD names no existing branch, or it is empty); give --ref")
                }
                return id
            }
            guard !ref.isEmpty, !ref.hasPrefix("-"), !ref.contains(".."), !ref.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw GitError(.other, "invalid ref '\(ref)'")
            }
            var candidates: [String]
            if ref.hasPrefix("refs/heads/") {
                candidates = ["refs/remotes/origin/" + ref.dropFirst("refs/heads/".count)]
            } else if ref.hasPrefix("refs/") {
                candidates = [ref]
            } else {
                candidates = ["refs/remotes/origin/" + ref, "refs/tags/" + ref]
            }
            for name in candidates {
                if let id = try peeledCommit(repo, reference: name) { return id }
            }
            if let id = CommitID(ref), try commitExists(repo, id) { return id }
            if ref.count >= 7, ref.count < 40, ref.allSatisfy(\.isHexDigit) {
                var object: OpaquePointer?
                if git_revparse_single(&object, repo, ref) == 0, let object {
                    defer { git_object_free(object) }
                    var peeled: OpaquePointer?
                    if git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) == 0, let peeled {
                        defer { git_object_free(peeled) }
                        return git_object_id(peeled).pointee.commitID
                    }
                }
            }
            let hint = ref.contains(where: { "~^@{:".contains($0) })
                ? "revision expressions are not accepted: give a branch, a tag or a commit id"
                : "no branch or tag of that name (deleted on the remote?), and no commit with that id"
            throw GitError(.notFound, "'\(ref)' is not a branch, tag or commit of \(remote): \(hint)")
        }
    }

    private func peeledCommit(_ repo: OpaquePointer, reference name: String) throws -> CommitID? {
        var reference: OpaquePointer?
        let code = git_reference_lookup(&reference, repo, name)
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue { return nil }
        try check(code, "cannot read \(name) in the cache")
        defer { git_reference_free(reference) }
        var object: OpaquePointer?
        let peel = git_reference_peel(&object, reference, GIT_OBJECT_COMMIT)
        if peel == GIT_EPEEL.rawValue || peel == GIT_EINVALIDSPEC.rawValue {
            throw GitError(.other, "\(name) does not point to a commit")
        }
        if peel != 0 {
            // The ref exists but what it points to cannot be read: the fetch wrote it only
            // after receiving the objects, so the cache is damaged.
            let underlying = GitError.last(peel, "")
            throw GitError(.cache, "the cache is damaged: \(name) points to an object that cannot be read\(underlying.message)")
        }
        defer { git_object_free(object) }
        return git_object_id(object).pointee.commitID
    }

    private func commitExists(_ repo: OpaquePointer, _ id: CommitID) throws -> Bool {
        var oid = git_oid(id)
        var commit: OpaquePointer?
        let code = git_commit_lookup(&commit, repo, &oid)
        if code == GIT_ENOTFOUND.rawValue { return false }
        try check(code, "cannot read commit \(id.short)")
        git_commit_free(commit)
        return true
    }

    public func has(_ commit: CommitID) -> Bool {
        (try? locked { try commitExists($0, commit) }) ?? false
    }

    /// Looks up a commit, or throws `.notFound`.
    func commit(_ repo: OpaquePointer, _ id: CommitID) throws -> GitHandle {
        var oid = git_oid(id)
        var commit: OpaquePointer?
        let code = git_commit_lookup(&commit, repo, &oid)
        if code == GIT_ENOTFOUND.rawValue { throw GitError(.notFound, "commit \(id.short) is not in the repository") }
        try check(code, "cannot read commit \(id.short)")
        return GitHandle(commit!, free: git_commit_free)
    }

    public func info(_ id: CommitID) throws -> CommitInfo {
        try locked { repo in
            let c = try commit(repo, id).pointer
            let author = git_commit_author(c)
            let parents = (0..<git_commit_parentcount(c)).compactMap { git_commit_parent_id(c, $0)?.pointee.commitID }
            return CommitInfo(id: id, summary: git_commit_summary(c).map { String(cString: $0) } ?? "",
                              authorName: author?.pointee.name.map { String(cString: $0) } ?? "",
                              authorEmail: author?.pointee.email.map { String(cString: $0) } ?? "",
                              time: git_commit_time(c), parents: parents)
        }
    }

    public func contains(_ commit: CommitID, ancestor: CommitID) throws -> Bool {
        if commit == ancestor { return true }
        return try locked { repo in
            var a = git_oid(commit), b = git_oid(ancestor)
            return try check(git_graph_descendant_of(repo, &a, &b), "cannot compare \(commit.short) with \(ancestor.short)") == 1
        }
    }

    public func mergeBase(_ a: CommitID, _ b: CommitID) throws -> CommitID? {
        try locked { repo in
            var out = git_oid(), x = git_oid(a), y = git_oid(b)
            let code = git_merge_base(&out, repo, &x, &y)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "cannot find a common ancestor of \(a.short) and \(b.short)")
            return out.commitID
        }
    }

    public func commits(from base: CommitID?, to head: CommitID, limit: Int) throws -> [CommitID] {
        try locked { repo in
            var walk: OpaquePointer?
            try check(git_revwalk_new(&walk, repo), "cannot walk history")
            defer { git_revwalk_free(walk) }
            try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue), "cannot walk history")
            var h = git_oid(head)
            try check(git_revwalk_push(walk, &h), "cannot walk from \(head.short)")
            if let base {
                var b = git_oid(base)
                try check(git_revwalk_hide(walk, &b), "cannot walk from \(base.short)")
            }
            var out: [CommitID] = []
            var next = git_oid()
            while true {
                let code = git_revwalk_next(&next, walk)
                if code == GIT_ITEROVER.rawValue { break }
                try check(code, "cannot walk history")
                out.append(next.commitID)
                if out.count > limit {
                    throw GitError(.other, "more than \(limit) commits between \(base?.short ?? "the first commit") and \(head.short)")
                }
            }
            return out
        }
    }

    public func signature(of id: CommitID) throws -> CommitSignature? {
        try locked { repo in
            var signature = git_buf(), payload = git_buf()
            defer { git_buf_dispose(&signature); git_buf_dispose(&payload) }
            var oid = git_oid(id)
            let code = git_commit_extract_signature(&signature, &payload, repo, &oid, nil)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "cannot read the signature of \(id.short)")
            let text = String(decoding: UnsafeRawBufferPointer(start: signature.ptr, count: signature.size), as: UTF8.self)
            let bytes = [UInt8](UnsafeRawBufferPointer(start: payload.ptr, count: payload.size))
            return CommitSignature(signature: text, payload: bytes)
        }
    }

    public func files(at id: CommitID, path: String) throws -> ([SpecFile], Diagnostics) {
        try locked { repo in try TreeReader(repo: repo, commit: commit(repo, id).pointer, id: id).files(path: path) }
    }
}
