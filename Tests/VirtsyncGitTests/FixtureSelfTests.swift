import Foundation
import VirtsyncTestSupport
import Testing

/// Proves the git and sshd fixtures with the git CLI alone, before any adapter uses them.
@Suite("git test fixtures")
struct FixtureSelfTests {
    /// Clones `source` into a new scratch folder of `repo` and returns the clone's path.
    static func clone(_ repo: GitFixture, from source: String, environment: [String: String] = [:]) async throws -> String {
        let destination = try repo.scratchPath("clone-\(UUID().uuidString)")
        try await repo.git(["clone", "-q", source, destination], in: repo.directory.path, environment: environment)
        return destination
    }

    @Test("file:// and plain-path clones see the pushed tree: renames, deletions, a symlink, a binary file")
    func fileClone() async throws {
        let repo = try await GitFixture()
        try repo.write("specs/a.yaml", "a: 1\n")
        try repo.write("old/gone.yaml", "x: 1\n")
        let binary = try repo.writeBinary("data/blob.bin", count: 300)
        try repo.symlink("link.yaml", to: "specs/a.yaml")
        try await repo.commit("first")
        try repo.rename("specs", to: "vms")
        try repo.delete("old")
        let second = try await repo.commit("second")
        #expect(try await repo.head() == second)
        for source in [repo.fileURL, repo.url] {
            let clone = try await Self.clone(repo, from: source)
            #expect(try await repo.git(["rev-parse", "HEAD"], in: clone) == second)
            let tree = try await repo.git(["ls-tree", "-r", "--format=%(objectmode) %(path)", "HEAD"], in: clone)
            #expect(tree.split(separator: "\n") == ["100644 data/blob.bin", "120000 link.yaml", "100644 vms/a.yaml"])
            #expect(try await repo.git(["cat-file", "-p", "HEAD:link.yaml"], in: clone) == "specs/a.yaml")
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: clone + "/data/blob.bin"))) == binary)
        }
    }

    @Test("the same sequence of unsigned commits and tags gives the same ids in two fixtures")
    func deterministicIds() async throws {
        func history() async throws -> [String] {
            let repo = try await GitFixture()
            try repo.write("a.yaml", "a: 1\n")
            let one = try await repo.commit("one")
            let tag = try await repo.tag("v1", message: "release 1")
            try repo.write("a.yaml", "a: 2\n")
            return [one, tag, try await repo.commit("two")]
        }
        let first = try await history()
        #expect(try await history() == first)
        #expect(Set(first).count == 3)
    }

    @Test("a huge file is committed with its exact size")
    func hugeFile() async throws {
        let repo = try await GitFixture()
        let size = 3 * 1024 * 1024 + 17
        try repo.writeHuge("big.bin", size: size)
        try await repo.commit("huge")
        #expect(try await repo.git(["cat-file", "-s", "main:big.bin"], in: repo.remotePath) == "\(size)")
    }

    @Test("verify-commit accepts the trusted signed commit and rejects unsigned and untrusted ones")
    func signatures() async throws {
        let repo = try await GitFixture()
        let trusted = try await repo.makeKey("trusted")
        let stranger = try await repo.makeKey("stranger")
        let signers = try repo.writeAllowedSigners([trusted])
        let signed = try await repo.commit("signed", signedBy: trusted)
        let unsigned = try await repo.commit("unsigned")
        let untrusted = try await repo.commit("untrusted", signedBy: stranger)
        try await repo.tag("v1", at: signed, message: "signed tag", signedBy: trusted)
        #expect(try await repo.verify(signed, allowedSigners: signers).succeeded)
        #expect(try await repo.verify("v1", allowedSigners: signers, tag: true).succeeded)
        #expect(try await !repo.verify(unsigned, allowedSigners: signers).succeeded)
        let refused = try await repo.verify(untrusted, allowedSigners: signers)
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("No principal matched"), "\(refused.stderr)")
        #expect(try await repo.git("cat-file", "commit", signed).contains("-----BEGIN SSH SIGNATURE-----"))
    }

    @Test("amend and reset force-push: the remote branch no longer contains the old commits")
    func historyRewrite() async throws {
        let repo = try await GitFixture()
        let base = try await repo.commit("base")
        let original = try await repo.commit("original")
        let clone = try await Self.clone(repo, from: repo.fileURL)
        let amended = try await repo.amend("amended")
        #expect(amended != original)
        #expect(try await repo.head() == amended)
        let fetch = try await repo.gitResult(["fetch", "origin"], in: clone)
        #expect(fetch.succeeded && fetch.stderr.contains("(forced update)"), "\(fetch.stderr)")
        let ancestor = try await repo.gitResult(["merge-base", "--is-ancestor", original, "origin/main"], in: clone)
        #expect(ancestor.status == 1)
        try await repo.resetHard(to: base)
        #expect(try await repo.head() == base)
    }

    @Test("branches and tags are pushed, moved and deleted on the remote")
    func refs() async throws {
        let repo = try await GitFixture()
        let one = try await repo.commit("one")
        try await repo.branch("staging")
        try await repo.checkout("staging")
        let two = try await repo.commit("two")
        try await repo.checkout("main")
        #expect(try await repo.head(of: "staging") == two)
        #expect(try await repo.head(of: "main") == one)
        #expect(try await repo.tag("light") == one)
        try await repo.tag("light", at: two, force: true)
        #expect(try await repo.git(["rev-parse", "refs/tags/light"], in: repo.remotePath) == two)
        try await repo.deleteBranch("staging")
        #expect(try await repo.git(["for-each-ref", "--format=%(refname)"], in: repo.remotePath) == "refs/heads/main\nrefs/tags/light")
    }

    @Test("the fixture's directory is removed when the fixture is released")
    func cleanup() async throws {
        var path = ""
        do {
            let repo = try await GitFixture()
            path = repo.directory.path
            #expect(FileManager.default.fileExists(atPath: repo.remotePath + "/HEAD"))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

extension FixtureSelfTests {
    /// The sshd fixture, skipped where sshd is missing or we are not root.
    @Suite("sshd on loopback", .enabled(if: SSHServer.isAvailable, "needs /usr/sbin/sshd and root"))
    struct SSH {
        @Test("a clone over ssh:// succeeds with the right known_hosts, plain or hashed")
        func cloneOverSSH() async throws {
            let repo = try await GitFixture()
            try repo.write("a.yaml", "a: 1\n")
            let head = try await repo.commit("one")
            let server = try await SSHServer()
            for knownHosts in [server.knownHostsPath, server.hashedKnownHostsPath] {
                let clone = try await FixtureSelfTests.clone(repo, from: server.url(for: repo.remotePath),
                                                             environment: server.gitEnvironment(knownHosts: knownHosts))
                #expect(try await repo.git(["rev-parse", "HEAD"], in: clone) == head)
            }
            let hashed = try String(contentsOfFile: server.hashedKnownHostsPath, encoding: .utf8)
            #expect(hashed.hasPrefix("|1|") && !hashed.contains("127.0.0.1"))
            #expect(server.log.contains("Accepted publickey for root"))
        }

        @Test("a clone over ssh:// fails with the wrong host key, and with a key sshd does not know")
        func refusals() async throws {
            let repo = try await GitFixture()
            try await repo.commit("one")
            let server = try await SSHServer()
            let source = server.url(for: repo.remotePath)
            let wrongHost = try await repo.gitResult(["clone", "-q", source, try repo.scratchPath("a")],
                                                     environment: server.gitEnvironment(knownHosts: server.wrongKnownHostsPath))
            #expect(!wrongHost.succeeded)
            #expect(wrongHost.stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), "\(wrongHost.stderr)")
            let stranger = try await repo.makeKey("stranger")
            let wrongUser = try await repo.gitResult(["clone", "-q", source, try repo.scratchPath("b")],
                                                     environment: server.gitEnvironment(key: stranger))
            #expect(!wrongUser.succeeded)
            #expect(wrongUser.stderr.contains("Permission denied (publickey)"), "\(wrongUser.stderr)")
        }

        @Test("the host key blob is the key sshd presents (ssh-keyscan)")
        func hostKeyBlob() async throws {
            let server = try await SSHServer()
            let scan = try await Command.check("ssh-keyscan", ["-p", "\(server.port)", "-t", "ed25519", "127.0.0.1"])
            let line = try #require(scan.split(separator: "\n").first { !$0.hasPrefix("#") })
            let fields = line.split(separator: " ")
            #expect(fields.first.map(String.init) == server.hostPattern)
            #expect(fields.count == 3 && Data(base64Encoded: String(fields[2])).map(Array.init) == server.hostKeyBlob)
            #expect(server.hostKeyBlob.count == 51) // string "ssh-ed25519" + string(32 bytes)
        }

        @Test("two servers get different ports; stop ends sshd and frees its port")
        func stop() async throws {
            let first = try await SSHServer()
            let second = try await SSHServer()
            #expect(first.port != second.port)
            first.stop()
            #expect(!first.isRunning)
            #expect(!LoopbackPort.accepts(first.port))
            #expect(second.isRunning && LoopbackPort.accepts(second.port))
            first.stop()
        }
    }
}
