import CLibgit2
import VirtsyncCore
import VirtsyncEngine

/// Reads a spec directory straight from a commit's tree, with the rules of `DirectorySource`:
/// hidden entries skipped; files over 1 MiB and binary `.yaml` files refused (sizes are read
/// from object headers, so a huge blob is never inflated). Symbolic links and submodules are
/// refused: a spec in git is made of regular files only.
struct TreeReader {
    let repo: OpaquePointer
    let commit: OpaquePointer
    let id: CommitID

    func files(path: String) throws -> ([SpecFile], Diagnostics) {
        var diagnostics: [Diagnostic] = []
        func error(_ file: String, _ message: String) {
            diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file), message))
        }
        let components = path.split(separator: "/").filter { $0 != "." }
        guard !components.contains("..") else {
            error(path, "the spec path may not contain '..'")
            return ([], Diagnostics(diagnostics))
        }
        let inner = components.joined(separator: "/")
        var rootTree: OpaquePointer?
        try check(git_commit_tree(&rootTree, commit), "cannot read the tree of \(id.short)")
        defer { git_tree_free(rootTree) }
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, repo), "cannot read the object database")
        defer { git_odb_free(odb) }

        var walk = Walk(repo: repo, odb: odb!)
        if inner.isEmpty {
            try walk.read(tree: rootTree!, relative: "")
        } else {
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, rootTree, inner)
            if code == GIT_ENOTFOUND.rawValue {
                error(".", "spec directory '\(inner)' does not exist in commit \(id.short)")
                return ([], Diagnostics(diagnostics))
            }
            try check(code, "cannot read '\(inner)' in \(id.short)")
            defer { git_tree_entry_free(entry) }
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                var tree: OpaquePointer?
                try check(git_tree_lookup(&tree, repo, git_tree_entry_id(entry)), "cannot read '\(inner)'")
                defer { git_tree_free(tree) }
                try walk.read(tree: tree!, relative: "")
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                let name = String(inner.split(separator: "/").last ?? "")
                guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else {
                    error(inner, "not a directory: give the spec directory, or a single .yaml file")
                    return ([], Diagnostics(diagnostics))
                }
                try walk.readBlob(git_tree_entry_id(entry).pointee, relative: name)
            case GIT_FILEMODE_LINK:
                error(inner, "symbolic link in the tree: the spec path must be a real directory")
            default:
                error(inner, "'\(inner)' is a submodule, not a spec directory")
            }
        }
        diagnostics += walk.diagnostics
        if !walk.files.contains(where: \.isSpecDocument) && !diagnostics.contains(where: { $0.severity == .error }) {
            error(".", "no spec files: '\(inner.isEmpty ? "." : inner)' in commit \(id.short) holds no .yaml or .yml file")
        }
        return (walk.files.sorted { $0.path < $1.path }, Diagnostics(diagnostics))
    }
}

private struct Walk {
    let repo: OpaquePointer
    let odb: OpaquePointer
    var files: [SpecFile] = []
    /// Bytes read so far, and whether the whole-spec limit was hit (then nothing more is read).
    var totalBytes = 0
    var overTotal = false
    var diagnostics: [Diagnostic] = []

    mutating func error(_ file: String, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file), message))
    }

    mutating func read(tree: OpaquePointer, relative: String) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index), let cName = git_tree_entry_name(entry) else { continue }
            let name = String(cString: cName)
            if name.hasPrefix(".") { continue }
            let child = relative.isEmpty ? name : relative + "/" + name
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                var sub: OpaquePointer?
                try check(git_tree_lookup(&sub, repo, git_tree_entry_id(entry)), "cannot read the directory \(child)")
                defer { git_tree_free(sub) }
                try read(tree: sub!, relative: child)
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                try readBlob(git_tree_entry_id(entry).pointee, relative: child)
            case GIT_FILEMODE_LINK:
                error(child, "symbolic link in the tree: spec files must be regular files")
            case GIT_FILEMODE_COMMIT:
                error(child, "submodule in the spec directory: not supported")
            default:
                error(child, "skipped: not a regular file or directory")
            }
        }
    }

    mutating func readBlob(_ oid: git_oid, relative: String) throws {
        var id = oid
        var size = 0
        var type = GIT_OBJECT_ANY
        try check(git_odb_read_header(&size, &type, odb, &id), "cannot read \(relative)")
        if let problem = SpecFile.sizeProblem(size) {
            error(relative, problem)
            return
        }
        guard !overTotal else { return }
        if let problem = SpecFile.totalProblem(files: files.count + 1, bytes: totalBytes + size) {
            error(relative, problem)
            overTotal = true
            return
        }
        totalBytes += size
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, repo, &id), "cannot read \(relative)")
        defer { git_blob_free(blob) }
        let count = Int(git_blob_rawsize(blob))
        let bytes = count == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: count))
        let file = SpecFile(path: relative, bytes: bytes)
        if let problem = file.contentProblem {
            error(relative, problem)
            return
        }
        files.append(file)
    }
}
