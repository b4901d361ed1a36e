import VirtsyncCore

extension SpecLoader {
    /// Validates a commit's spec files (read from directory `path` of the repository, with the
    /// problems met while reading them). Diagnostics name files relative to the repository's
    /// root; `desired` is nil on any error.
    public static func load(files: [SpecFile], readDiagnostics: Diagnostics, commit: String, path: String)
        -> (desired: DesiredState?, diagnostics: Diagnostics) {
        var all = readDiagnostics.relativeToRepository(path: path)
        if all.hasErrors { return (nil, all) }
        let result = SpecLoader.load(files: files, commit: commit)
        all.items += result.diagnostics.relativeToRepository(path: path).items
        return (all.hasErrors ? nil : result.desired, all)
    }
}

extension Diagnostics {
    /// Diagnostics name files relative to the spec directory; read from a repository at `path`
    /// (a directory inside it), they are named relative to the repository's root instead.
    public func relativeToRepository(path: String) -> Diagnostics {
        let inner = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        guard !inner.isEmpty else { return self }
        return Diagnostics(items.map { d in
            var copy = d
            copy.location.file = d.location.file == "." ? inner : inner + "/" + d.location.file
            return copy
        })
    }
}
