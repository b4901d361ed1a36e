import VirtsyncCore

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
