import Foundation
import Testing
import VirtsyncEngine
import VirtsyncSpec
@testable import VirtsyncGit

@Suite("Repository URLs")
struct RemoteURLTests {
    @Test("each transport is recognised, with host, port and user")
    func transports() throws {
        let local = try RemoteURL("specs/repo", currentDirectory: "/srv")
        #expect(local.transport == .local && local.url == "/srv/specs/repo")
        #expect(try RemoteURL("file:///srv/repo.git").transport == .file)
        let ssh = try RemoteURL("ssh://deploy@git.example.com:2222/ops/specs.git")
        #expect(ssh.transport == .ssh && ssh.host == "git.example.com" && ssh.port == 2222 && ssh.user == "deploy")
        #expect(ssh.knownHostsName == "[git.example.com]:2222")
        let scp = try RemoteURL("git@github.com:ops/specs.git")
        #expect(scp.transport == .ssh && scp.host == "github.com" && scp.user == "git" && scp.knownHostsName == "github.com")
        let https = try RemoteURL("https://gitlab.example.com/ops/specs.git")
        #expect(https.transport == .https && https.port == nil && https.url == "https://gitlab.example.com/ops/specs.git")
        #expect(try RemoteURL("ssh://[::1]:22/r").knownHostsName == "::1")
    }

    @Test("a password in the URL is refused and never echoed")
    func passwordRefused() {
        for url in ["https://bot:s3cr3t-token@example.com/r.git", "ssh://me:s3cr3t-token@example.com/r"] {
            #expect {
                try RemoteURL(url)
            } throws: { error in
                "\(error)".contains("password") && !"\(error)".contains("s3cr3t-token")
            }
        }
    }

    @Test("unencrypted and unknown schemes are refused", arguments: ["http://example.com/r.git", "git://example.com/r.git", "ftp://x/y", ""])
    func refused(_ url: String) {
        #expect(throws: GitError.self) { try RemoteURL(url) }
    }

    @Test("a user name in an https URL is kept out of what is shown")
    func httpsUserNotShown() throws {
        let url = try RemoteURL("https://bot@example.com/r.git")
        #expect(url.user == "bot" && url.description == "https://example.com/r.git")
    }

    @Test("cache directories are distinct per URL and safe as file names")
    func cachePaths() throws {
        let a = GitRepositoryCache.cachePath(for: try RemoteURL("ssh://h/a/specs.git"), in: "/var/lib/virtsync/git")
        let b = GitRepositoryCache.cachePath(for: try RemoteURL("ssh://h/b/specs.git"), in: "/var/lib/virtsync/git")
        #expect(a != b && a.hasPrefix("/var/lib/virtsync/git/specs-") && a.hasSuffix(".git"))
        let odd = GitRepositoryCache.cachePath(for: try RemoteURL("file:///tmp/../we ird;name"), in: "/c")
        #expect(!odd.dropFirst(3).contains("/") && !odd.contains(" ") && !odd.contains(";"))
    }

    @Test("one repository named several ways has one identity (one cache, one applied record)")
    func identity() throws {
        let dir = NSTemporaryDirectory() + "virtsync-identity-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/repo.git", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: dir + "/link")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/repo.git")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = [dir + "/repo.git", dir + "/repo.git/", "file://" + dir + "/repo.git", dir + "/link", dir + "/./repo.git"]
        let identities = try Set(names.map { try RemoteURL($0).identity })
        #expect(identities.count == 1, "\(identities)")
        let caches = try Set(names.map { GitRepositoryCache.cachePath(for: try RemoteURL($0), in: "/c") })
        #expect(caches.count == 1)
        #expect(try RemoteURL("ssh://h/r.git/").identity == RemoteURL("ssh://h/r.git").identity)
    }

    @Test("secrets are redacted when printed")
    func secretRedacted() throws {
        let secret = try Secret.fromEnvironment("TOKEN", environment: ["TOKEN": "glpat-abcdef\n"])
        #expect("\(secret)" == "<redacted>" && String(reflecting: secret) == "<redacted>")
        #expect(secret.value == "glpat-abcdef")
        #expect(throws: GitError.self) { try Secret.fromEnvironment("MISSING", environment: [:]) }
        #expect(throws: GitError.self) { try Secret.fromEnvironment("EMPTY", environment: ["EMPTY": "\n"]) }
    }
}
