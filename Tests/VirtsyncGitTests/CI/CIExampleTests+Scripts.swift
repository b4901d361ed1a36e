import Foundation
import VirtsyncTestSupport
import Testing

/// The two shared scripts on their own: the comment script against the fake forge with
/// hand-written parts, and the plan script's checks (signatures, shallow checkouts, plans with errors).
extension CIExampleTests {
    // MARK: post-plan-comments.sh alone

    @Test("post-plan-comments.sh posts n parts, then edits and deletes the surplus, and touches nothing else",
          .enabled(if: toolsReady, "needs bash, jq, curl and python3"), arguments: ["github", "gitlab"])
    func postScript(forgeName: String) async throws {
        let github = forgeName == "github"
        let forge = try CIFakeForge(botLogin: github ? "github-actions[bot]" : "project_17_bot_5f2a")
        let others = try await seedOthers(forge)
        let directory = try ScratchDirectory(prefix: "ci-post")
        let parts = directory.path("parts")
        let (list, item, edit) = github
            ? ("/repos/example/prod-specs/issues/7/comments", "/repos/example/prod-specs/issues/comments/", "PATCH")
            : ("/api/v4/projects/17/merge_requests/5/notes", "/api/v4/projects/17/merge_requests/5/notes/", "PUT")
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": directory.path, "LANG": "C.UTF-8", "VIRTSYNC_FORGE": forgeName,
        ]
        if github {
            environment.merge(["GITHUB_TOKEN": forge.token, "GITHUB_API_URL": forge.url, "GITHUB_REPOSITORY": "example/prod-specs",
                               "VIRTSYNC_PR_NUMBER": "7", "VIRTSYNC_BOT_LOGIN": "github-actions[bot]",
                               "VIRTSYNC_HTTP_CLIENT": "curl"]) { $1 }
        } else {
            environment.merge(["VIRTSYNC_BOT_TOKEN": forge.token, "CI_API_V4_URL": forge.url + "/api/v4",
                               "CI_PROJECT_ID": "17", "CI_MERGE_REQUEST_IID": "5"]) { $1 }
        }
        environment["POST_SCRIPT"] = CIExamples.url("post-plan-comments.sh").path
        environment["PARTS"] = parts
        /// Writes `bodies` as the parts, each with its heading and marker, and runs the script on them.
        func post(_ bodies: [String], _ environment: [String: String]) async throws -> CommandResult {
            try? FileManager.default.removeItem(atPath: parts)
            try FileManager.default.createDirectory(atPath: parts, withIntermediateDirectories: true)
            for (index, body) in bodies.enumerated() {
                let text = "### virtsync plan — part \(index + 1) of \(bodies.count)\n\n\(body)\n"
                    + "\n<!-- virtsync-plan part=\(index + 1)/\(bodies.count) head=0123456789ab -->\n"
                try Data(text.utf8).write(to: URL(fileURLWithPath: parts + "/plan-part-\(index + 1).md"))
            }
            return try await CIExamples.runStep(#""$POST_SCRIPT" "$PARTS""# + "\n", in: directory.path, environment: environment)
        }

        let three = try await post(["+ create domain a → `x`", "~ update \"b\" \\ 'c' ✓", "+ create domain c"], environment)
        #expect(three.status == 0, "\(three.ciLog)")
        #expect(try await forge.writes() == Array(repeating: CIFakeForge.Request(method: "POST", path: list), count: 3))
        #expect(try await forge.requests().filter { $0 == CIFakeForge.Request(method: "GET", path: list) }.count == 3,
                "4 comments at 3 a page: two pages, then an empty one")
        let posted = try await botComments(forge, others)
        #expect(posted.count == 3 && posted[1].body.contains(#"~ update "b" \ 'c' ✓"#))
        #expect(posted.allSatisfy { $0.login == forge.botLogin })

        try await forge.resetLog()
        let two = try await post(["+ create domain a → `x`", "- delete domain z"], environment)
        #expect(two.status == 0, "\(two.ciLog)")
        #expect(try await forge.writes() == [
            CIFakeForge.Request(method: edit, path: item + "\(posted[0].id)"),
            CIFakeForge.Request(method: edit, path: item + "\(posted[1].id)"),
            CIFakeForge.Request(method: "DELETE", path: item + "\(posted[2].id)"),
        ])
        #expect(try await botComments(forge, others).map(\.id) == [posted[0].id, posted[1].id])

        try await forge.resetLog()
        let same = try await post(["+ create domain a → `x`", "- delete domain z"], environment)
        #expect(same.status == 0, "\(same.ciLog)")
        #expect(try await forge.writes() == [], "equal comments are left alone")

        try await forge.resetLog()
        var noToken = environment
        noToken[github ? "GITHUB_TOKEN" : "VIRTSYNC_BOT_TOKEN"] = nil
        let refused = try await post(["x"], noToken)
        #expect(refused.status != 0 && refused.stderr.contains("TOKEN"), "\(refused.ciLog)")
        #expect(try await forge.requests() == [])
        #expect(try await forge.comments().filter { others.contains($0) } == others)
    }

    // MARK: run-plan.sh alone

    @Test("run-plan.sh checks signatures against the allowed signers of the base commit, never of the head",
          .enabled(if: ready && (try? Command.locate("ssh-keygen")) != nil, "needs the tools, the virtsync binary and ssh-keygen"))
    func allowedSigners() async throws {
        let repo = try await CISpecRepository(reviewRef: "refs/pull/9/head")
        let trusted = try await repo.git.makeKey("trusted")
        let base = try await repo.commitMain("trust one key") {
            try repo.git.write(".virtsync/allowed_signers", trusted.allowedSignersLine(principal: GitFixture.authorEmail) + "\n")
        }
        try await repo.startReview(at: base)
        try repo.git.write("\(Self.specPath)/vms/web-1.yaml", CISpecRepository.vm("web-1", memory: "64MiB"))
        let signed = try await repo.commitReview("web-1: 64MiB", signedBy: trusted)
        let good = try await runPlan(repo, base: base, head: signed)
        #expect(good.result.status == 0, "\(good.result.ciLog)")
        #expect(good.result.stderr.contains("verifying commit signatures against .virtsync/allowed_signers"))
        #expect(good.parts.count == 1 && good.parts[0].contains("### virtsync plan"))

        try repo.git.write("\(Self.specPath)/vms/web-1.yaml", CISpecRepository.vm("web-1", memory: "96MiB"))
        let unsigned = try await repo.commitReview("web-1: 96MiB, unsigned")
        let bad = try await runPlan(repo, base: base, head: unsigned)
        #expect(bad.result.status == 1, "\(bad.result.ciLog)")
        #expect(bad.parts.count == 1 && bad.parts[0].contains("### virtsync plan failed"), "\(bad.parts)")
        #expect(bad.parts.first?.contains("commit \(unsigned.prefix(12)) (\"web-1: 96MiB, unsigned\"") == true, "\(bad.parts)")
        #expect(bad.parts.first?.contains("is not signed") == true, "\(bad.parts)")

        // A change that brings its own allowed-signers file is not checked against it.
        let other = try await CISpecRepository(reviewRef: "refs/pull/10/head")
        try await other.startReview()
        try other.git.write(".virtsync/allowed_signers", "nobody@example.invalid ssh-ed25519 AAAA\n")
        let own = try await other.commitReview("bring my own allowed signers")
        let ignored = try await runPlan(other, base: other.initialCommit, head: own)
        #expect(ignored.result.status == 0, "\(ignored.result.ciLog)")
        #expect(ignored.result.stderr.contains(".virtsync/allowed_signers is new in this change"))
    }

    @Test("run-plan.sh refuses a shallow checkout with an error part that says how to fetch the history",
          .enabled(if: ready, "needs bash, git, jq, curl, python3 and the virtsync binary"))
    func shallowCheckout() async throws {
        let repo = try await CISpecRepository(reviewRef: "refs/pull/11/head")
        try await repo.startReview()
        try repo.git.write("\(Self.specPath)/vms/web-1.yaml", CISpecRepository.vm("web-1", memory: "64MiB"))
        let head = try await repo.commitReview("web-1: 64MiB")
        let run = try await runPlan(repo, base: repo.initialCommit, head: head, depth: 1)
        #expect(run.result.status == 1, "\(run.result.ciLog)")
        #expect(run.parts.count == 1 && run.parts[0].contains("fetch-depth: 0"), "\(run.parts)")
        #expect(run.parts.first?.contains("<!-- virtsync-plan part=1/1 head=\(head.prefix(12)) -->") == true)
    }

    @Test("run-plan.sh keeps a plan that holds errors as the part to post, and fails",
          .enabled(if: ready, "needs bash, git, jq, curl, python3 and the virtsync binary"))
    func planWithErrors() async throws {
        let repo = try await CISpecRepository(reviewRef: "refs/pull/12/head")
        let pool = { (size: String) in
            """
            apiVersion: virtsync/v1
            kind: StoragePool
            name: prod
            type: dir
            path: /var/lib/virtsync/pools/prod
            volumes:
              - name: data.img
                size: \(size)
                format: raw

            """
        }
        let base = try await repo.commitMain("a pool with a 64 MiB volume") {
            try repo.git.write("\(Self.specPath)/storage.yaml", pool("64MiB"))
        }
        try await repo.startReview(at: base)
        try repo.git.write("\(Self.specPath)/storage.yaml", pool("32MiB"))
        let head = try await repo.commitReview("shrink the volume")
        let run = try await runPlan(repo, base: base, head: head)
        #expect(run.result.status == 1, "\(run.result.ciLog)")
        #expect(run.parts.count == 1, "\(run.parts)")
        let part = run.parts.first ?? ""
        #expect(part.hasPrefix("### virtsync plan\n") && part.contains("[!CAUTION]") && part.contains("would shrink"), "\(part)")
        #expect(part.contains("<!-- virtsync-plan part=1/1 head=\(head.prefix(12)) -->"))
        #expect(run.result.stderr.contains("has errors (see its Notes)"), "\(run.result.ciLog)")
    }
}
