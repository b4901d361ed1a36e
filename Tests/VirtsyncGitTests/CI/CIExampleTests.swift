import Foundation
import VirtsyncTestSupport
import Testing
import Yams

/// The CI examples of `examples/ci/`: the two job definitions parse and say what they must; their
/// plan and comment steps, taken from the YAML and run as a runner runs them, plan a real change
/// with the real `virtsync` from a detached checkout and keep one set of comments on a fake forge.
@Suite("CI examples (examples/ci)")
struct CIExampleTests {
    static let toolsReady = CIExamples.missingTools.isEmpty
    static let ready = toolsReady && CIExamples.isVirtsyncBuilt
    static let specPath = CISpecRepository.specPath

    // MARK: The files

    @Test("both job definitions parse as YAML and hand the plan and the comments to the shared scripts")
    func definitions() throws {
        let github = try CIGitHubWorkflow()
        let on = try #require(github.root.value("on"))
        #expect(on.value("pull_request") != nil)
        #expect(github.root.value("permissions")?.texts == ["contents": "read", "pull-requests": "write"])
        let checkout = try #require(github.steps.first { $0.uses?.hasPrefix("actions/checkout@") == true })
        #expect(checkout.with["fetch-depth"] == "0")
        // Every action is pinned to a full commit hash (the version is a comment beside it).
        for step in github.steps {
            guard let uses = step.uses, let at = uses.firstIndex(of: "@") else { continue }
            let ref = uses[uses.index(after: at)...]
            #expect(ref.count == 40 && ref.allSatisfy(\.isHexDigit), "not pinned to a commit: \(uses)")
        }
        let text = try String(contentsOf: CIExamples.url("github-actions.yml"), encoding: .utf8)
        #expect(text.contains("@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1"))
        #expect(checkout.with["ref"] == "${{ github.event.pull_request.head.sha }}")
        #expect(github.step("install-virtsync")?.run != nil)
        let plan = try #require(github.step("plan"))
        #expect(plan.env["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}")
        #expect(plan.env["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}")
        #expect(plan.run?.contains(".virtsync/ci/run-plan.sh ") == true)
        let post = try #require(github.steps.first { $0.run?.contains(".virtsync/ci/post-plan-comments.sh ") == true })
        let condition = post.condition ?? ""
        #expect(condition.contains("!cancelled()") && condition.contains("steps.plan.outcome == 'failure'"), "\(condition)")
        #expect(post.env["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}")

        let gitlab = try CIGitLabJob()
        #expect(gitlab.ruleConditions == [#"$CI_PIPELINE_SOURCE == "merge_request_event""#])
        #expect(gitlab.variables["GIT_DEPTH"] == "0")
        #expect(gitlab.script.contains(#".virtsync/ci/run-plan.sh "$CI_MERGE_REQUEST_DIFF_BASE_SHA" "$CI_COMMIT_SHA" "#))
        #expect(gitlab.script.contains(".virtsync/ci/post-plan-comments.sh "))
        #expect(gitlab.beforeScript.contains { $0.contains("swift build -c release --product virtsync") })

        // The plan command line is written in one place only: run-plan.sh.
        for name in ["github-actions.yml", "gitlab-ci.yml", "post-plan-comments.sh"] {
            #expect(try !CIExamples.text(name).contains("--parts-dir"), "\(name)")
        }
        #expect(try CIExamples.text("run-plan.sh").components(separatedBy: "--parts-dir").count == 2)
    }

    // MARK: GitHub Actions

    @Test("GitHub: the workflow's steps plan a pull request from a detached checkout and keep one set of comments",
          .enabled(if: ready, "needs bash, git, jq, curl, python3 and the virtsync binary (swift build --build-tests)"))
    func gitHubWorkflow() async throws {
        let workflow = try CIGitHubWorkflow()
        let repo = try await CISpecRepository(reviewRef: "refs/pull/7/head")
        let forge = try CIFakeForge(botLogin: "github-actions[bot]")
        let others = try await seedOthers(forge)
        let list = "/repos/example/prod-specs/issues/7/comments"
        let item = "/repos/example/prod-specs/issues/comments/"

        // The change: web-1 to 64 MiB and 40 new VMs (several parts at the smallest comment limit);
        // meanwhile main gains cache-1, which the plan must not show as removed.
        try await repo.startReview()
        try repo.git.write("\(Self.specPath)/vms/web-1.yaml", CISpecRepository.vm("web-1", memory: "64MiB"))
        for index in 1...40 {
            try repo.git.write("\(Self.specPath)/vms/batch-\(index).yaml", CISpecRepository.vm("batch-\(index)"))
        }
        let head1 = try await repo.commitReview("web-1: 64MiB; 40 batch workers")
        let mainTip = try await repo.commitMain("cache-1") {
            try repo.git.write("\(Self.specPath)/vms/cache-1.yaml", CISpecRepository.vm("cache-1"))
        }

        let first = try await runGitHub(workflow, repo, forge, base: mainTip, head: head1)
        #expect(first.planStatus == 0, "\(first.log)")
        #expect(first.postStatus == 0, "\(first.log)")
        #expect(first.parts.count >= 2, "\(first.log)")
        #expect(try await forge.writes() == Array(repeating: CIFakeForge.Request(method: "POST", path: list), count: first.parts.count))
        let posted = try await botComments(forge, others)
        #expect(posted.map(\.body) == first.parts)
        #expect(posted.allSatisfy { $0.login == "github-actions[bot]" })
        for (index, body) in first.parts.enumerated() {
            #expect(body.contains("<!-- virtsync-plan part=\(index + 1)/\(first.parts.count) head=\(head1.prefix(12)) -->"))
        }
        let plan = first.parts.joined()
        #expect(plan.contains("batch-40") && plan.contains("64MiB"))
        #expect(plan.contains("Base `\(repo.initialCommit.prefix(12))`"), "planned from the merge base")
        #expect(!plan.contains("cache-1"), "main's own change is not shown as reverted")
        #expect(try await forge.comments().filter { others.contains($0) } == others)

        // A push that drops the batch workers again: one part; the oldest comment edited, the rest deleted.
        try await forge.resetLog()
        for index in 1...40 { try repo.git.delete("\(Self.specPath)/vms/batch-\(index).yaml") }
        let head2 = try await repo.commitReview("no batch workers after all")
        let second = try await runGitHub(workflow, repo, forge, base: mainTip, head: head2)
        #expect(second.planStatus == 0 && second.postStatus == 0, "\(second.log)")
        #expect(second.parts.count == 1)
        #expect(try await forge.writes() == [CIFakeForge.Request(method: "PATCH", path: item + "\(posted[0].id)")]
                + posted.dropFirst().map { CIFakeForge.Request(method: "DELETE", path: item + "\($0.id)") })
        #expect(try await botComments(forge, others) == [CIFakeForge.Comment(id: posted[0].id, body: second.parts[0], login: "github-actions[bot]")])

        // The same head again (a re-run): nothing to write.
        try await forge.resetLog()
        let rerun = try await runGitHub(workflow, repo, forge, base: mainTip, head: head2)
        #expect(rerun.planStatus == 0 && rerun.postStatus == 0, "\(rerun.log)")
        #expect(try await forge.writes() == [])

        // An invalid spec: the plan step fails (so does the job), and its error replaces the plan.
        try await forge.resetLog()
        try repo.git.write("\(Self.specPath)/vms/broken.yaml", CISpecRepository.invalidVM)
        let head3 = try await repo.commitReview("broken")
        let failed = try await runGitHub(workflow, repo, forge, base: mainTip, head: head3)
        #expect(failed.planStatus == 1, "\(failed.log)")
        #expect(failed.postStatus == 0, "\(failed.log)")
        #expect(try await forge.writes() == [CIFakeForge.Request(method: "PATCH", path: item + "\(posted[0].id)")])
        let error = try #require(try await botComments(forge, others).first)
        #expect(error.body.contains("### virtsync plan failed"))
        #expect(error.body.contains("\(Self.specPath)/vms/broken.yaml:4:"), "\(error.body)")
        #expect(error.body.contains("<!-- virtsync-plan part=1/1 head=\(head3.prefix(12)) -->"))
        #expect(try await forge.comments().filter { others.contains($0) } == others)
    }

    /// What one run of a job did: the exit status of the plan and of the comment step (nil when
    /// it did not run), the parts, and everything the steps printed.
    struct JobRun {
        var planStatus: Int32 = -1
        var postStatus: Int32?
        var parts: [String] = []
        var log = ""
    }

    /// Runs the GitHub workflow's job for one pull request event: the checkout (emulated), then every
    /// `run` step but the install step, each with the environment the runner would give it.
    func runGitHub(_ workflow: CIGitHubWorkflow, _ repo: CISpecRepository, _ forge: CIFakeForge,
                   base: String, head: String) async throws -> JobRun {
        let checkout = try await repo.ciCheckout(head: head)
        try repo.installScripts(into: checkout)
        let temp = try repo.git.scratchPath("runner-temp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let event = temp + "/event.json"
        try Data(#"{"pull_request": {"number": 7}}"#.utf8).write(to: URL(fileURLWithPath: event))
        let runner = repo.git.environment.merging([
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": checkout, "RUNNER_TEMP": temp,
            "GITHUB_REPOSITORY": "example/prod-specs", "GITHUB_API_URL": forge.url, "GITHUB_EVENT_PATH": event,
            "GITHUB_EVENT_NAME": "pull_request",
            // The test's one addition: the smallest comment limit, so that a small change needs several parts.
            "VIRTSYNC_COMMENT_LIMIT": "4096",
        ]) { $1 }
        let context = [
            "github.event.pull_request.base.sha": base, "github.event.pull_request.head.sha": head,
            "github.event.pull_request.number": "7", "secrets.GITHUB_TOKEN": forge.token,
        ]
        var run = JobRun()
        for step in workflow.steps {
            if let uses = step.uses {
                #expect(uses.hasPrefix("actions/checkout@"), "only the checkout is an action: \(uses)")
                continue
            }
            guard step.id != "install-virtsync", let script = step.run else { continue }
            let afterPlan = step.condition?.contains("steps.plan.outcome") == true
            if run.planStatus > 0 && !afterPlan { break }
            let result = try await CIExamples.runStep(script, in: checkout,
                                                      environment: workflow.environment(of: step, base: runner, context: context))
            run.log += "--- step \(step.id ?? step.run ?? "")\n\(result.ciLog)"
            if step.id == "plan" { run.planStatus = result.status } else if afterPlan { run.postStatus = result.status }
        }
        run.parts = try parts(in: temp + "/virtsync-plan")
        return run
    }

    // MARK: GitLab CI

    @Test("GitLab: the job's script plans a merge request from a detached checkout and keeps one set of notes",
          .enabled(if: ready, "needs bash, git, jq, curl, python3 and the virtsync binary (swift build --build-tests)"))
    func gitLabJob() async throws {
        let job = try CIGitLabJob()
        let repo = try await CISpecRepository(reviewRef: "refs/merge-requests/5/head")
        let forge = try CIFakeForge(botLogin: "project_17_bot_5f2a")
        let others = try await seedOthers(forge)
        let list = "/api/v4/projects/17/merge_requests/5/notes"

        try await repo.startReview()
        try repo.git.write("\(Self.specPath)/vms/web-1.yaml", CISpecRepository.vm("web-1", memory: "64MiB"))
        for index in 1...40 {
            try repo.git.write("\(Self.specPath)/vms/batch-\(index).yaml", CISpecRepository.vm("batch-\(index)"))
        }
        let head1 = try await repo.commitReview("web-1: 64MiB; 40 batch workers")
        let first = try await runGitLab(job, repo, forge, diffBase: repo.initialCommit, head: head1)
        #expect(first.planStatus == 0, "\(first.log)")
        #expect(first.parts.count >= 2, "\(first.log)")
        #expect(try await forge.requests().contains(CIFakeForge.Request(method: "GET", path: "/api/v4/user")),
                "the bot's own notes are told by the token's user")
        #expect(try await forge.writes() == Array(repeating: CIFakeForge.Request(method: "POST", path: list), count: first.parts.count))
        let posted = try await botComments(forge, others)
        #expect(posted.map(\.body) == first.parts)
        #expect(posted.allSatisfy { $0.login == "project_17_bot_5f2a" })

        try await forge.resetLog()
        for index in 1...40 { try repo.git.delete("\(Self.specPath)/vms/batch-\(index).yaml") }
        let head2 = try await repo.commitReview("no batch workers after all")
        let second = try await runGitLab(job, repo, forge, diffBase: repo.initialCommit, head: head2)
        #expect(second.planStatus == 0 && second.parts.count == 1, "\(second.log)")
        #expect(try await forge.writes() == [CIFakeForge.Request(method: "PUT", path: list + "/\(posted[0].id)")]
                + posted.dropFirst().map { CIFakeForge.Request(method: "DELETE", path: list + "/\($0.id)") })
        #expect(try await botComments(forge, others).map(\.body) == second.parts)

        try await forge.resetLog()
        try repo.git.write("\(Self.specPath)/vms/broken.yaml", CISpecRepository.invalidVM)
        let head3 = try await repo.commitReview("broken")
        let failed = try await runGitLab(job, repo, forge, diffBase: repo.initialCommit, head: head3)
        #expect(failed.planStatus == 1, "the job fails\n\(failed.log)")
        #expect(try await forge.writes() == [CIFakeForge.Request(method: "PUT", path: list + "/\(posted[0].id)")])
        let error = try #require(try await botComments(forge, others).first)
        #expect(error.body.contains("### virtsync plan failed") && error.body.contains("\(Self.specPath)/vms/broken.yaml:5:"),
                "\(error.body)")
        #expect(try await forge.comments().filter { others.contains($0) } == others)
    }

    /// Runs the GitLab job's `script:` for one merge request pipeline (the runner's checkout emulated,
    /// `before_script:` skipped: virtsync is already built); `planStatus` is the job's exit status.
    func runGitLab(_ job: CIGitLabJob, _ repo: CISpecRepository, _ forge: CIFakeForge,
                   diffBase: String, head: String) async throws -> JobRun {
        let checkout = try await repo.ciCheckout(head: head)
        try repo.installScripts(into: checkout)
        let environment = repo.git.environment.merging(job.variables) { $1 }.merging([
            "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": checkout, "CI_API_V4_URL": forge.url + "/api/v4",
            "CI_PROJECT_ID": "17", "CI_MERGE_REQUEST_IID": "5", "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": diffBase, "CI_COMMIT_SHA": head,
            "VIRTSYNC_BOT_TOKEN": forge.token,
            "VIRTSYNC_COMMENT_LIMIT": "4096", // the test's one addition, as for GitHub
        ]) { $1 }
        let result = try await CIExamples.runStep(job.script, in: checkout, environment: environment)
        return JobRun(planStatus: result.status, postStatus: nil, parts: try parts(in: checkout + "/virtsync-plan"),
                      log: result.ciLog)
    }

    // MARK: Helpers

    /// Runs run-plan.sh in a fresh CI checkout of `head` (shallow with `depth`), with its defaults.
    func runPlan(_ repo: CISpecRepository, base: String, head: String, depth: Int? = nil) async throws -> (result: CommandResult, parts: [String]) {
        let checkout = try await repo.ciCheckout(head: head, depth: depth)
        let partsDirectory = try repo.git.scratchPath("parts-\(UUID().uuidString.prefix(8))")
        let environment = repo.git.environment.merging([
            "VIRTSYNC_SPEC_PATH": Self.specPath, "RUN_PLAN": CIExamples.url("run-plan.sh").path,
            "BASE": base, "HEAD": head, "PARTS": partsDirectory,
        ]) { $1 }
        let result = try await CIExamples.runStep(#""$RUN_PLAN" "$BASE" "$HEAD" "$PARTS""# + "\n", in: checkout, environment: environment)
        return (result, try parts(in: partsDirectory))
    }

    /// Comments by others that every run must leave as they are: more than a page of them (the fake
    /// forge pages by 3), one quoting the marker, and one by the bot's login without the marker.
    func seedOthers(_ forge: CIFakeForge) async throws -> [CIFakeForge.Comment] {
        try await forge.seed("Looks good; waiting for the plan.", by: "octocat")
        try await forge.seed("Quoting the bot:\n\n> <!-- virtsync-plan part=1/1 head=0123456789ab -->\n", by: "octocat")
        try await forge.seed("A comment of another job of the same bot, without the marker.", by: forge.botLogin)
        try await forge.seed("Second thoughts on web-1's memory.", by: "hubot")
        return try await forge.comments()
    }

    /// The bot's plan comments: every comment but `others`, in creation order.
    func botComments(_ forge: CIFakeForge, _ others: [CIFakeForge.Comment]) async throws -> [CIFakeForge.Comment] {
        let known = Set(others.map(\.id))
        return try await forge.comments().filter { !known.contains($0.id) }
    }

    /// The texts of `directory/plan-part-1.md`, `-2.md`, ... in order.
    func parts(in directory: String) throws -> [String] {
        var result: [String] = []
        while let text = try? String(contentsOfFile: "\(directory)/plan-part-\(result.count + 1).md", encoding: .utf8) {
            result.append(text)
        }
        return result
    }
}

extension CommandResult {
    /// Exit status and both outputs, for the messages of failed expectations of the CI tests.
    var ciLog: String { "status \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)\n" }
}
