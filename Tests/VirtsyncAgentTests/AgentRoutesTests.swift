import Foundation
import Testing
@testable import VirtsyncAgent
import VirtsyncEngine
import VirtsyncHTTP
import VirtsyncTesting
import VirtsyncTestSupport

/// The agent's routes called in process (no socket).
@Suite("agent routes")
struct AgentRoutesTests {
    /// A runner that is never run: these tests only look at what the routes trigger.
    struct IdleRunner: PassRunner {
        func run(id: Int, trigger: PassTrigger, detail: String?, stop: StopFlag) async -> PassRecord {
            PassRecord(id: id, trigger: trigger, triggerDetail: detail, startedAt: Date(), outcome: .converged, reason: "Converged")
        }
    }

    static let secret = "gitlab-shared-secret"

    /// Routes over a state directory of their own.
    struct Fixture {
        let scratch: ScratchDirectory
        let state: AgentState
        let loop: AgentLoop
        let routes: AgentRoutes

        init(webhookSecret: String? = AgentRoutesTests.secret) throws {
            scratch = try ScratchDirectory(prefix: "routes")
            let clock = ManualClock()
            state = AgentState(status: AgentStatus(host: "h1", source: "repo", pid: 1, startedAt: clock.wallNow()),
                               files: AgentFiles(stateDirectory: scratch.path), clock: clock)
            loop = AgentLoop(runner: IdleRunner(), clock: clock, timing: AgentTiming(interval: 60))
            routes = AgentRoutes(state: state, loop: loop, webhookSecret: webhookSecret.map { Array($0.utf8) }, stallLimit: 300)
        }

        func post(_ path: String, query: [String: String] = [:], headers: [String: String] = [:], body: String = "",
                  loopback: Bool = true) async -> EndpointResponse {
            await routes.handle(EndpointRequest(method: "POST", path: path, query: query, headers: headers, body: Array(body.utf8),
                                                peerAddress: loopback ? "127.0.0.1" : "192.0.2.7", peerIsLoopback: loopback))
        }

        func get(_ path: String) async -> EndpointResponse {
            await routes.handle(EndpointRequest(method: "GET", path: path))
        }
    }

    // MARK: Webhook

    @Test("GitLab's X-Gitlab-Token equal to the secret triggers a pass")
    func gitlabToken() async throws {
        let f = try Fixture()
        let response = await f.post("/webhook", headers: ["x-gitlab-token": Self.secret, "x-gitlab-event": "Push Hook",
                                                          "x-gitlab-event-uuid": "1f2e"], body: #"{"ref":"refs/heads/main"}"#)
        #expect(response.status == 202)
        #expect(response.bodyText == "pass 1 triggered\n")
    }

    @Test("a wrong, empty or truncated X-Gitlab-Token is refused with 401", arguments: [
        "", "wrong", String(AgentRoutesTests.secret.dropLast()), AgentRoutesTests.secret + "x", AgentRoutesTests.secret.uppercased(),
        " " + AgentRoutesTests.secret,
    ])
    func gitlabWrongToken(_ token: String) async throws {
        let f = try Fixture()
        let response = await f.post("/webhook", headers: ["x-gitlab-token": token], body: "{}")
        #expect(response.status == 401)
    }

    @Test("a GitHub signature is still checked, and wins over a token sent beside it")
    func githubStillChecked() async throws {
        let f = try Fixture()
        let body = #"{"ref":"refs/heads/main"}"#
        let signature = WebhookSignature.sign(body: Array(body.utf8), secret: Array(Self.secret.utf8))
        #expect(await f.post("/webhook", headers: ["x-hub-signature-256": signature], body: body).status == 202)
        // A right token does not excuse a wrong signature.
        let forged = "sha256=" + String(repeating: "0", count: 64)
        #expect(await f.post("/webhook", headers: ["x-hub-signature-256": forged, "x-gitlab-token": Self.secret], body: body).status == 401)
        #expect(await f.post("/webhook", body: body).status == 401)
    }

    @Test("without a webhook secret a GitLab delivery gets 404 like any other")
    func gitlabWithoutSecret() async throws {
        let f = try Fixture(webhookSecret: nil)
        #expect(await f.post("/webhook", headers: ["x-gitlab-token": "anything"]).status == 404)
    }

    @Test("the token comparison accepts only the exact secret and never an empty one")
    func verifyToken() {
        let secret = Array("s3cret".utf8)
        #expect(WebhookSignature.verifyToken(header: "s3cret", secret: secret))
        #expect(!WebhookSignature.verifyToken(header: "s3cre", secret: secret))
        #expect(!WebhookSignature.verifyToken(header: "s3cret\n", secret: secret))
        #expect(!WebhookSignature.verifyToken(header: nil, secret: secret))
        #expect(!WebhookSignature.verifyToken(header: "", secret: []))
        #expect(!WebhookSignature.verifyToken(header: "x", secret: []))
    }
}
