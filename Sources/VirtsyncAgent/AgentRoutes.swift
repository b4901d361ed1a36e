import Foundation
import VirtsyncDashboard
import VirtsyncEngine
import VirtsyncHTTP

/// The agent's HTTP endpoint: health, readiness, status, metrics, the push webhook,
/// `POST /reconcile` (what `virtsync reconcile --now` calls) and `POST /suspend` and
/// `POST /resume` (`virtsync suspend` and `virtsync resume`).
package struct AgentRoutes: Sendable {
    let state: AgentState
    let loop: AgentLoop
    /// The webhook's HMAC secret; nil disables `/webhook`.
    let webhookSecret: [UInt8]?
    /// A pass silent for this long means the agent is stuck.
    let stallLimit: Double
    /// The REST API and the dashboard.
    let api: ClusterAPI

    /// The paths a peer on another machine may use without the bearer token: health probes,
    /// and the webhook (which checks a signature of its own).
    /// The dashboard's page and assets and the API's document are open too: they carry no
    /// cluster data (the page asks for a token before it reads any).
    package static let openPaths: Set<String> = Set(["/healthz", "/readyz", "/webhook"]).union(ClusterAPI.openPaths)

    package init(state: AgentState, loop: AgentLoop, webhookSecret: [UInt8]?, stallLimit: Double, board: (any ClusterBoard)? = nil,
                 clock: any AgentClock = SystemAgentClock()) {
        self.state = state
        self.loop = loop
        self.webhookSecret = webhookSecret
        self.stallLimit = stallLimit
        self.api = ClusterAPI(provider: AgentClusterView(state: state, board: board, clock: clock), control: AgentControl(state: state, loop: loop))
    }

    package func handle(_ request: EndpointRequest) async -> EndpointResponse {
        if let answer = await api.handle(request) { return answer }
        switch (request.method, request.path) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return state.isHealthy(stallLimit: stallLimit)
                ? .text("ok\n")
                : .text("stuck: a pass has made no progress for \(Int(stallLimit)) s\n", status: 503)
        case ("GET", "/readyz"), ("HEAD", "/readyz"):
            guard let ready = state.snapshot.conditions[.ready] else { return .text("no pass has finished yet\n", status: 503) }
            return ready.status ? .text("ready: \(ready.message)\n") : .text("not ready: \(ready.reason): \(ready.message)\n", status: 503)
        case ("GET", "/status"):
            do {
                return .json(Array(try state.snapshot.json()))
            } catch {
                return .text("cannot encode the status: \(error)\n", status: 500)
            }
        case ("GET", "/metrics"):
            var response = EndpointResponse.text(state.metrics.render())
            response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        case ("POST", "/webhook"):
            return webhook(request)
        case ("POST", "/reconcile"):
            return await reconcile(request)
        case ("POST", "/suspend"), ("POST", "/resume"):
            return suspension(request)
        case (_, "/healthz"), (_, "/readyz"), (_, "/status"), (_, "/metrics"), (_, "/webhook"), (_, "/reconcile"), (_, "/suspend"), (_, "/resume"):
            var response = EndpointResponse.text("method \(request.method) not allowed\n", status: 405)
            response.headers["Allow"] = ["/webhook", "/reconcile", "/suspend", "/resume"].contains(request.path) ? "POST" : "GET, HEAD"
            return response
        default:
            return .text("not found; try / (the dashboard), /api/v1/cluster, /openapi.yaml, /healthz, /readyz, /status, /metrics\n", status: 404)
        }
    }

    /// A push from the forge: the body's HMAC-SHA256 must match (GitHub's `X-Hub-Signature-256`,
    /// Gitea's and others' the same scheme, or `X-Virtsync-Signature`), or GitLab's
    /// `X-Gitlab-Token` must equal the secret. A request with both a signature and a token is
    /// judged by its signature.
    private func webhook(_ request: EndpointRequest) -> EndpointResponse {
        guard let secret = webhookSecret else {
            return .text("the webhook is not configured (http.webhookSecretFile)\n", status: 404)
        }
        let header = request.headers["x-hub-signature-256"] ?? request.headers["x-virtsync-signature"]
            ?? request.headers["x-gitea-signature"].map { "sha256=" + $0 }
        if let token = request.headers["x-gitlab-token"], header == nil {
            // GitLab signs nothing: its delivery carries the shared secret itself.
            guard WebhookSignature.verifyToken(header: token, secret: secret) else {
                return .text("token wrong\n", status: 401)
            }
        } else if !WebhookSignature.verify(header: header, body: request.body, secret: secret) {
            return .text("signature missing or wrong\n", status: 401)
        }
        if request.headers["x-github-event"] == "ping" { return .text("pong\n") }
        let delivery = request.headers["x-github-delivery"] ?? request.headers["x-gitea-delivery"]
            ?? request.headers["x-gitlab-event-uuid"] ?? request.headers["x-request-id"]
        let pass = loop.trigger(.webhook, detail: delivery.map { "delivery \($0)" })
        return .text("pass \(pass) triggered\n", status: 202)
    }

    /// `virtsync suspend` and `virtsync resume`: local callers only, like `/reconcile`. The
    /// reason is the `reason` query parameter; who asked is `X-Virtsync-By`. A resume asks for a
    /// pass at once, so the host catches up with what changed meanwhile.
    private func suspension(_ request: EndpointRequest) -> EndpointResponse {
        guard request.peerIsLoopback else { return .text("\(request.path.dropFirst()) is accepted from this host only\n", status: 403) }
        do {
            if request.path == "/suspend" {
                let reason = request.query["reason"].flatMap { $0.isEmpty ? nil : $0 }
                let suspension = try state.suspend(reason: reason, by: request.headers["x-virtsync-by"])
                return .text("suspended \(suspension.summary)\n")
            }
            guard let ended = try state.resume() else { return .text("not suspended\n") }
            let pass = loop.trigger(.manual, detail: "resumed")
            return .text("resumed (suspended \(ended.summary)); pass \(pass) triggered\n")
        } catch {
            return .text("cannot change the suspension: \(error)\n", status: 500)
        }
    }

    /// `virtsync reconcile --now`: local callers only. With `?wait=1` the answer is the pass record.
    private func reconcile(_ request: EndpointRequest) async -> EndpointResponse {
        guard request.peerIsLoopback else { return .text("reconcile is accepted from this host only\n", status: 403) }
        let pass = loop.trigger(.manual, detail: request.headers["x-virtsync-reason"])
        guard request.query["wait"] == "1" || request.query["wait"] == "true" else {
            return .text("pass \(pass) triggered\n", status: 202)
        }
        guard let record = await loop.waitForPass(pass) else {
            return .text("the agent is stopping\n", status: 503)
        }
        guard let data = try? record.json() else { return .text("cannot encode the pass\n", status: 500) }
        return .json(Array(data))
    }
}
