import Foundation
import VirtsyncTestSupport
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec
@testable import VirtsyncGit

/// A cache of the fixture's remote in a state directory of the fixture's own.
func makeCache(_ fixture: GitFixture, url: String? = nil, credentials: GitCredentials = GitCredentials(),
               timeout: Duration = .seconds(20)) throws -> GitRepositoryCache {
    GitRepositoryCache(remote: try RemoteURL(url ?? fixture.fileURL), cacheDirectory: try fixture.scratchPath("state") + "/git",
                       credentials: credentials, fetchTimeout: timeout)
}

let vmYAML = """
apiVersion: virtsync/v1
kind: VirtualMachine
name: vm-1
vcpus: 1
memory: 32MiB

"""

@Suite("The libgit2 cache")
struct GitCacheTests {
    @Test("fetch, new commits, a deleted file and a renamed directory, through file:// and a plain path", arguments: [false, true])
    func followsTheRemote(plainPath: Bool) async throws {
        let fixture = try await GitFixture()
        try fixture.write("clusters/a/vm.yaml", vmYAML)
        try fixture.write("clusters/a/extra.yaml", vmYAML.replacingOccurrences(of: "vm-1", with: "vm-2"))
        let first = try await fixture.commit("two vms")
        let cache = try makeCache(fixture, url: plainPath ? fixture.url : fixture.fileURL)
        let summary = try cache.fetch()
        #expect(summary.receivedObjects > 0 && !summary.rebuiltCache)
        #expect(try cache.resolve(nil).hex == first)
        #expect(try cache.files(at: cache.resolve(nil), path: "clusters/a").0.map(\.path) == ["extra.yaml", "vm.yaml"])

        try fixture.delete("clusters/a/extra.yaml")
        let second = try await fixture.commit("delete one")
        #expect(try cache.resolve(nil).hex == first, "nothing moves before a fetch")
        _ = try cache.fetch()
        let head = try cache.resolve(nil)
        #expect(head.hex == second)
        #expect(try cache.files(at: head, path: "clusters/a").0.map(\.path) == ["vm.yaml"])
        #expect(try cache.info(head).parents == [CommitID(first)!])

        try fixture.rename("clusters/a", to: "clusters/b")
        let third = try await fixture.commit("rename")
        _ = try cache.fetch()
        let moved = try cache.resolve("main")
        #expect(moved.hex == third)
        #expect(try cache.files(at: moved, path: "clusters/b").0.map(\.path) == ["vm.yaml"])
        let (gone, problems) = try cache.files(at: moved, path: "clusters/a")
        #expect(gone.isEmpty && problems.description.contains("does not exist in commit \(moved.short)"))
        // Older commits stay readable: a plan of an old commit needs no working tree.
        #expect(try cache.files(at: CommitID(first)!, path: "clusters/a").0.count == 2)
        #expect(try cache.fetch().receivedObjects == 0, "a no-change fetch receives nothing")
    }

    @Test("branches, annotated tags, short and full ids resolve; a deleted branch or tag does not")
    func refs() async throws {
        let fixture = try await GitFixture()
        try fixture.write("vm.yaml", vmYAML)
        let first = try await fixture.commit("first")
        _ = try await fixture.tag("v1", message: "release 1")
        try await fixture.branch("staging")
        try fixture.write("vm.yaml", vmYAML + "# second\n")
        let second = try await fixture.commit("second")
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        #expect(try cache.resolve("v1").hex == first)
        #expect(try cache.resolve("refs/tags/v1").hex == first)
        #expect(try cache.resolve("staging").hex == first)
        #expect(try cache.resolve("refs/heads/main").hex == second)
        #expect(try cache.resolve(String(first.prefix(10))).hex == first)
        #expect(try cache.resolve(first).hex == first)

        try await fixture.deleteBranch("staging")
        _ = try await fixture.git("push", "-q", "origin", ":refs/tags/v1")
        _ = try cache.fetch()
        for vanished in ["staging", "v1"] {
            #expect { try cache.resolve(vanished) } throws: { ($0 as? GitError)?.kind == .notFound && "\($0)".contains(vanished) }
        }
        for bad in ["main..other", "-x", "main~1", "has space"] {
            #expect(throws: GitError.self) { try cache.resolve(bad) }
        }
    }

    @Test("a force-push: the new head does not descend from the old one, which stays readable")
    func forcePush() async throws {
        let fixture = try await GitFixture()
        try fixture.write("vm.yaml", vmYAML)
        let base = try await fixture.commit("base")
        try fixture.write("vm.yaml", vmYAML + "# a\n")
        let old = try await fixture.commit("old")
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        try await fixture.resetHard(to: base, push: false)
        try fixture.write("vm.yaml", vmYAML + "# b\n")
        let rewritten = try await fixture.commit("rewritten", push: false)
        try await fixture.push(force: true)
        _ = try cache.fetch()
        let head = try cache.resolve(nil)
        #expect(head.hex == rewritten)
        let oldID = CommitID(old)!, baseID = CommitID(base)!
        #expect(cache.has(oldID))
        #expect(try !cache.contains(head, ancestor: oldID))
        #expect(try cache.contains(head, ancestor: baseID))
        #expect(try cache.mergeBase(head, oldID) == baseID)
        #expect(try cache.commits(from: baseID, to: head, limit: 10) == [head])
        #expect(throws: GitError.self) { try cache.commits(from: nil, to: head, limit: 1) }
    }

    @Test("symbolic links, binary and huge files in the tree are refused, each by name")
    func hostileTrees() async throws {
        let fixture = try await GitFixture()
        try fixture.write("spec/vm.yaml", vmYAML)
        try fixture.symlink("spec/link.yaml", to: "/etc/passwd")
        _ = try fixture.writeBinary("spec/blob.yaml")
        try fixture.writeHuge("spec/huge.yaml", size: 3 << 20)
        try fixture.write("spec/.hidden/ignored.yaml", "not: [valid")
        let head = try await fixture.commit("hostile")
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        let (files, diagnostics) = try cache.files(at: CommitID(head)!, path: "spec")
        #expect(files.map(\.path) == ["vm.yaml"])
        let text = diagnostics.description
        #expect(text.contains("link.yaml: error: symbolic link"))
        #expect(text.contains("blob.yaml: error: binary file"))
        #expect(text.contains("huge.yaml: error: file is larger than 1 MiB"))
        #expect(!text.contains("ignored"))
        let (_, escape) = try cache.files(at: CommitID(head)!, path: "spec/../..")
        #expect(escape.hasErrors)
    }

    @Test("a tree over 64 MiB in all is refused at the file that crosses the limit, and nothing after it is read")
    func treeTooLargeInAll() async throws {
        let fixture = try await GitFixture()
        let mebibyte = String(repeating: "# padding, a comment line of sixty-four bytes in all, padding!!\n", count: 16_384)
        for index in 0..<66 { try fixture.write(String(format: "spec/f%03d.yaml", index), mebibyte) }
        let head = try await fixture.commit("large")
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        let (files, diagnostics) = try cache.files(at: CommitID(head)!, path: "spec")
        #expect(files.count == 64)
        #expect(diagnostics.errors.map(\.location.file) == ["f064.yaml"])
        #expect(diagnostics.errors.first?.message == "the spec is larger than 64 MiB in all; nothing from this file on is read")
    }

    @Test("a damaged cache is detected and rebuilt, and the read succeeds")
    func damagedCache() async throws {
        let fixture = try await GitFixture()
        try fixture.write("vm.yaml", vmYAML)
        let head = try await fixture.commit("one")
        let cache = try makeCache(fixture)
        _ = try cache.fetch()
        // Every object file and pack in the cache overwritten with garbage.
        let objects = cache.path + "/objects"
        let all = FileManager.default.enumerator(atPath: objects)?.compactMap { $0 as? String } ?? []
        var damaged = 0
        for relative in all where !relative.hasSuffix("/") {
            var isDirectory: ObjCBool = false
            let full = objects + "/" + relative
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: full)
                try Data(repeating: 0x5A, count: 64).write(to: URL(fileURLWithPath: full))
                damaged += 1
            }
        }
        #expect(damaged > 0)
        let source = RepositorySource(repository: cache, verifier: nil)
        let read = try await source.read(ref: nil, path: ".")
        #expect(read.commit.id.hex == head && read.files.count == 1 && read.fetch?.rebuiltCache == true)

        // A cache directory that is not a repository at all.
        try FileManager.default.removeItem(atPath: cache.path)
        try "junk".write(toFile: cache.path, atomically: true, encoding: .utf8)
        #expect(try cache.fetch().rebuiltCache)
        #expect(try cache.resolve(nil).hex == head)
    }

    @Test("an unreachable remote and a remote that never answers fail clearly and in time")
    func unreachable() async throws {
        let fixture = try await GitFixture()
        let missing = try makeCache(fixture, url: fixture.fileURL + "-missing")
        #expect { try missing.fetch() } throws: { "\($0)".contains("-missing") }

        // A loopback port that accepts and then says nothing: the fetch is abandoned at its deadline.
        let silent = try SilentListener()
        defer { silent.close() }
        let cache = try makeCache(fixture, url: "ssh://git@127.0.0.1:\(silent.port)/repo.git", timeout: .seconds(2))
        let started = ContinuousClock.now
        #expect { try cache.fetch() } throws: { ($0 as? GitError)?.kind == .timeout }
        #expect(ContinuousClock.now - started < .seconds(6))

        let closedPort = try LoopbackPort.free()
        let refused = try makeCache(fixture, url: "ssh://git@127.0.0.1:\(closedPort)/repo.git", timeout: .seconds(5))
        #expect { try refused.fetch() } throws: { ($0 as? GitError)?.kind == .remote || ($0 as? GitError)?.kind == .other }
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never writes.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw GitError(.other, "cannot listen on loopback") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(fd) }
}
