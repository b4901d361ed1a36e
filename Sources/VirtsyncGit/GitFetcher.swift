import CLibgit2
import Foundation
import VirtsyncEngine

/// One fetch into the bare cache, on the calling thread with its own repository handle:
/// connect, list the remote's refs and default branch, download, update the refs, delete refs
/// the remote no longer has. Serialised between processes by a lock file beside the cache.
struct GitFetcher {
    let path: String
    let context: FetchContext

    static let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]

    func fetch(rebuilt: Bool) throws -> FetchSummary {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let lockFile = try FileLock(path: path + ".lock")
        defer { lockFile.release() }
        let repo = try openOrCreate()
        defer { git_repository_free(repo) }

        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, repo, context.remote.url), "invalid repository URL \(context.remote)")
        defer { git_remote_free(remote) }

        var callbacks = context.callbacks()
        var proxy = git_proxy_options()
        git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
        try check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, &proxy, nil), "cannot reach \(context.remote)")
        defer { git_remote_disconnect(remote) }

        let advertised = try remoteRefs(remote)
        var defaultBranch = git_buf()
        defer { git_buf_dispose(&defaultBranch) }
        let hasDefault = git_remote_default_branch(&defaultBranch, remote) == 0

        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.callbacks = callbacks
        options.prune = GIT_FETCH_NO_PRUNE
        options.update_fetchhead = 0
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        try withStrarray(Self.refspecs) { specs in
            try check(git_remote_download(remote, specs, &options), "cannot fetch from \(context.remote)")
        }
        try check(git_remote_update_tips(remote, &callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "virtsync fetch"),
                  "cannot update the cache's refs")
        try pruneVanished(repo, advertised: advertised)
        if hasDefault, let ptr = defaultBranch.ptr {
            let branch = String(cString: ptr)
            if branch.hasPrefix("refs/heads/") {
                let target = "refs/remotes/origin/" + branch.dropFirst("refs/heads/".count)
                var ref: OpaquePointer?
                try check(git_reference_symbolic_create(&ref, repo, "refs/remotes/origin/HEAD", target, 1, "virtsync default branch"),
                          "cannot record the default branch")
                git_reference_free(ref)
            }
        } else {
            _ = git_reference_remove(repo, "refs/remotes/origin/HEAD")
        }
        return FetchSummary(receivedObjects: context.receivedObjects, rebuiltCache: rebuilt)
    }

    /// Opens the cache, or creates an empty bare repository there. A directory that is not a
    /// repository (or is damaged) is a `.cache` error, so the caller rebuilds it.
    private func openOrCreate() throws -> OpaquePointer {
        var repo: OpaquePointer?
        if FileManager.default.fileExists(atPath: path) {
            let code = git_repository_open_bare(&repo, path)
            guard code == 0, let repo else { throw GitError(.cache, "the cache \(path) is damaged (cannot be opened)") }
            // The object database must be readable: a quick check catches a truncated pack.
            var odb: OpaquePointer?
            guard git_repository_odb(&odb, repo) == 0 else {
                git_repository_free(repo)
                throw GitError(.cache, "the cache \(path) is damaged (object database)")
            }
            git_odb_free(odb)
            return repo
        }
        try check(git_repository_init(&repo, path, 1), "cannot create the cache \(path)")
        return repo!
    }

    /// Names of the branches and tags the remote advertises.
    private func remoteRefs(_ remote: OpaquePointer?) throws -> Set<String> {
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check(git_remote_ls(&heads, &count, remote), "cannot list the refs of \(context.remote)")
        var names = Set<String>()
        for i in 0..<count {
            if let head = heads?[i], let name = head.pointee.name { names.insert(String(cString: name)) }
        }
        return names
    }

    /// Deletes cached branches and tags that the remote no longer has: a vanished ref must not
    /// keep resolving to its old commit.
    private func pruneVanished(_ repo: OpaquePointer, advertised: Set<String>) throws {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_new(&iterator, repo), "cannot list the cache's refs")
        defer { git_reference_iterator_free(iterator) }
        var stale: [String] = []
        var name: UnsafePointer<CChar>?
        while git_reference_next_name(&name, iterator) == 0, let name {
            let local = String(cString: name)
            if local.hasPrefix("refs/remotes/origin/"), local != "refs/remotes/origin/HEAD" {
                if !advertised.contains("refs/heads/" + local.dropFirst("refs/remotes/origin/".count)) { stale.append(local) }
            } else if local.hasPrefix("refs/tags/"), !advertised.contains(local) {
                stale.append(local)
            }
        }
        for ref in stale { try check(git_reference_remove(repo, ref), "cannot delete the stale ref \(ref)") }
    }
}

/// An exclusive `flock` on a file, released explicitly or when the process exits.
struct FileLock {
    let fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw GitError(.cache, "cannot open the lock file \(path)") }
        guard flock(fd, LOCK_EX) == 0 else {
            close(fd)
            throw GitError(.cache, "cannot lock \(path)")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
