import Testing
import VirtsyncCore
@testable import VirtsyncEngine
import VirtsyncSpec

/// An in-memory repository: commits with parents, files and signatures.
final class MemoryRepository: SpecRepository, @unchecked Sendable {
    struct Commit {
        var parents: [CommitID]
        var files: [SpecFile]
        var signature: String?
    }

    var commits: [CommitID: Commit] = [:]
    var refs: [String: CommitID] = [:]
    var fetches = 0, rebuilds = 0
    /// The next `files` call fails as a damaged cache would.
    var damaged = false

    let displayURL = "memory://specs"

    static func id(_ n: Int) -> CommitID { CommitID(String(repeating: "0", count: 39 - String(n).count) + "a" + String(n))! }

    @discardableResult
    func commit(_ n: Int, parents: [Int], signature: String? = "good:alice@example.com", ref: String = "main") -> CommitID {
        let id = Self.id(n)
        commits[id] = Commit(parents: parents.map(Self.id), files: [SpecFile(path: "a.yaml", bytes: Array("n: \(n)".utf8))], signature: signature)
        refs[ref] = id
        return id
    }

    func fetch() throws -> FetchSummary { fetches += 1; return FetchSummary() }
    func rebuild() throws -> FetchSummary { rebuilds += 1; damaged = false; return FetchSummary(rebuiltCache: true) }

    func resolve(_ ref: String?) throws -> CommitID {
        if let ref, let id = CommitID(ref), commits[id] != nil { return id }
        guard let id = refs[ref ?? "main"] else { throw GitError(.notFound, "no ref \(ref ?? "main")") }
        return id
    }

    func info(_ commit: CommitID) throws -> CommitInfo {
        guard let c = commits[commit] else { throw GitError(.notFound, "no commit") }
        return CommitInfo(id: commit, summary: "commit", authorName: "A", authorEmail: "a@example.com", time: 0, parents: c.parents)
    }

    func files(at commit: CommitID, path: String) throws -> ([SpecFile], Diagnostics) {
        if damaged { throw GitError(.cache, "object corrupt") }
        return (commits[commit]?.files ?? [], Diagnostics())
    }

    func ancestors(_ id: CommitID) -> Set<CommitID> {
        var seen: Set<CommitID> = [], stack = [id]
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack += commits[next]?.parents ?? [] }
        }
        return seen
    }

    func contains(_ commit: CommitID, ancestor: CommitID) throws -> Bool { ancestors(commit).contains(ancestor) }
    func has(_ commit: CommitID) -> Bool { commits[commit] != nil }

    func mergeBase(_ a: CommitID, _ b: CommitID) throws -> CommitID? {
        let common = ancestors(a).intersection(ancestors(b))
        return common.first { c in !common.contains { $0 != c && ancestors($0).contains(c) } }
    }

    func commits(from base: CommitID?, to head: CommitID, limit: Int) throws -> [CommitID] {
        let hidden = base.map(ancestors) ?? []
        // Linear histories in these tests: follow first parents back, oldest first.
        var out: [CommitID] = [], cursor: CommitID? = head
        while let c = cursor, !hidden.contains(c) { out.append(c); cursor = commits[c]?.parents.first }
        return out.reversed()
    }

    func signature(of commit: CommitID) throws -> CommitSignature? {
        commits[commit]?.signature.map { CommitSignature(signature: $0, payload: []) }
    }
}

/// Accepts `good:<principal>` signatures and records what it was asked.
final class RecordingVerifier: SignatureVerifier, @unchecked Sendable {
    var checked: [CommitID] = []
    func verify(_ signature: CommitSignature?, of commit: CommitInfo) throws -> Signer {
        checked.append(commit.id)
        guard let text = signature?.signature else { throw GitError(.other, "commit \(commit.id.short) is not signed") }
        guard text.hasPrefix("good:") else { throw GitError(.other, "commit \(commit.id.short) has a bad signature") }
        return Signer(principal: String(text.dropFirst(5)), key: "ED25519 key SHA256:test")
    }
}

@Suite("Reading a spec from a repository")
struct RepositorySourceTests {
    @Test("the first read verifies the head only and names its signer")
    func firstRead() async throws {
        let repo = MemoryRepository(), verifier = RecordingVerifier()
        repo.commit(1, parents: [], signature: nil)
        let head = repo.commit(2, parents: [1])
        let read = try await RepositorySource(repository: repo, verifier: verifier).read(ref: nil, path: ".")
        #expect(read.commit.id == head && read.signer?.principal == "alice@example.com")
        #expect(verifier.checked == [head] && read.historyRewrite == nil && repo.fetches == 1)
    }

    @Test("every commit after the last applied one is verified, oldest first; one unsigned in the middle refuses")
    func rangeVerified() async throws {
        let repo = MemoryRepository(), verifier = RecordingVerifier()
        for n in 1...5 { repo.commit(n, parents: n == 1 ? [] : [n - 1]) }
        let read = try await RepositorySource(repository: repo, verifier: verifier).read(ref: "main", path: ".", lastApplied: MemoryRepository.id(2))
        #expect(read.verified == [3, 4, 5].map(MemoryRepository.id))
        #expect(verifier.checked == [3, 4, 5].map(MemoryRepository.id))

        repo.commit(3, parents: [2], signature: nil)   // rewrite commit 3 in place: unsigned
        await #expect {
            try await RepositorySource(repository: repo, verifier: RecordingVerifier()).read(ref: "main", path: ".", lastApplied: MemoryRepository.id(2))
        } throws: { "\($0)".contains(MemoryRepository.id(3).short) && "\($0)".contains("not signed") }
    }

    @Test("the same commit again re-verifies only itself")
    func sameCommit() async throws {
        let repo = MemoryRepository(), verifier = RecordingVerifier()
        let head = repo.commit(1, parents: [])
        let read = try await RepositorySource(repository: repo, verifier: verifier).read(ref: nil, path: ".", lastApplied: head)
        #expect(read.verified == [head] && read.signer != nil && read.historyRewrite == nil)
    }

    @Test("a head that does not descend from the last applied commit is a history rewrite")
    func rewrite() async throws {
        let repo = MemoryRepository(), verifier = RecordingVerifier()
        repo.commit(1, parents: [])
        let applied = repo.commit(2, parents: [1])
        repo.commit(3, parents: [1])   // force-push: main now 1 → 3
        let read = try await RepositorySource(repository: repo, verifier: verifier).read(ref: "main", path: ".", lastApplied: applied)
        #expect(read.historyRewrite?.contains("does not descend") == true)
        #expect(verifier.checked == [MemoryRepository.id(3)], "verified from the common ancestor")

        repo.refs["main"] = MemoryRepository.id(1)   // moved back
        let back = try await RepositorySource(repository: repo, verifier: nil).read(ref: "main", path: ".", lastApplied: applied)
        #expect(back.historyRewrite?.contains("moved back") == true)

        let gone = try await RepositorySource(repository: repo, verifier: nil).read(ref: "main", path: ".", lastApplied: MemoryRepository.id(99))
        #expect(gone.historyRewrite?.contains("no longer") == true)
    }

    @Test("a damaged cache found while reading is rebuilt once and the read succeeds")
    func damagedCache() async throws {
        let repo = MemoryRepository()
        repo.commit(1, parents: [])
        repo.damaged = true
        let read = try await RepositorySource(repository: repo, verifier: nil).read(ref: nil, path: ".")
        #expect(repo.rebuilds == 1 && read.files.count == 1 && read.fetch?.rebuiltCache == true)
    }

    @Test("commit ids are 40 hex digits")
    func commitIDs() {
        #expect(CommitID(String(repeating: "A", count: 40))?.hex == String(repeating: "a", count: 40))
        #expect(CommitID("abc") == nil && CommitID(String(repeating: "g", count: 40)) == nil)
    }
}
