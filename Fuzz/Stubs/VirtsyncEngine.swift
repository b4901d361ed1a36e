// Stand-in for the project's `VirtsyncEngine` module, for the known_hosts fuzz target only:
// the `GitError` that Sources/VirtsyncGit/SSH/KnownHosts.swift throws (mirrors
// Sources/VirtsyncEngine/SpecSource/SpecRepository.swift), so the real file compiles without the
// engine and its dependencies.

/// Why a git operation failed.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case remote
        case authentication
        case hostVerification
        case notFound
        case rewritten
        case cache
        case timeout
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
