import Foundation
import VirtsyncCore
import VirtsyncHTTP

/// Where the API's cluster view comes from: an agent (its host and its peers' reports) or
/// `virtsync serve` (every host of a spec, read on an interval).
package protocol ClusterViewProvider: Sendable {
    func view() async -> ClusterView
}

/// The write side an agent has (`serve` has none): a pass now, suspend and resume.
package protocol ClusterControl: Sendable {
    /// Asks for a pass; returns its number.
    func reconcile(reason: String?) -> Int
    func suspend(reason: String?, by: String?) throws -> (reason: String?, since: Date, by: String?)
    /// Ends a suspension; the pass it triggered, nil when the agent was not suspended.
    func resume() throws -> Int?
}

/// The REST API (`/api/v1/...`, described by `/openapi.yaml`) and the dashboard page (`/`) over
/// a `ClusterViewProvider`. Reads are open to this host and, from other machines, to a read or
/// write token (the endpoint checks those); writes need a caller on this host that is not a page
/// of another site, or the write token. Errors are RFC 9457 problem details.
package struct ClusterAPI: Sendable {
    let provider: any ClusterViewProvider
    let control: (any ClusterControl)?

    /// The paths that serve no cluster data: the page, its assets and the API's document.
    package static let openPaths: Set<String> = ["/", "/index.html", "/dashboard.js", "/dashboard.css", "/openapi.yaml"]

    package init(provider: any ClusterViewProvider, control: (any ClusterControl)?) {
        self.provider = provider
        self.control = control
    }

    /// The answer for the API's and the dashboard's paths; nil for any other path.
    package func handle(_ request: EndpointRequest) async -> EndpointResponse? {
        if let asset = DashboardAssets.response(for: request) { return asset }
        guard request.path == "/api" || request.path.hasPrefix("/api/") else { return nil }
        // Names arrive percent-encoded in the path (the query is decoded by the endpoint).
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1" else {
            return Problem.response(404, "Not Found", "no such path; the API is under /api/v1 (see /openapi.yaml)", instance: request.path)
        }
        let rest = Array(parts.dropFirst(2))
        if ["reconcile", "suspend", "resume"].contains(rest[0]) && rest.count == 1 {
            guard request.method == "POST" else { return Problem.notAllowed(request, allow: "POST") }
            return write(rest[0], request)
        }
        guard request.method == "GET" || request.method == "HEAD" else { return Problem.notAllowed(request, allow: "GET, HEAD") }
        return await read(rest, request)
    }

    // MARK: - Reads

    private func read(_ rest: [String], _ request: EndpointRequest) async -> EndpointResponse {
        switch (rest.first ?? "", rest.count) {
        case ("cluster", 1):
            return Self.json(await provider.view())
        case ("hosts", 1):
            return Self.json(await provider.view().hosts)
        case ("hosts", 2):
            guard let host = await provider.view().hosts.first(where: { $0.name == rest[1] }) else {
                return Problem.response(404, "Not Found", "no host named \(rest[1].quotedForMessage) in the spec", instance: request.path)
            }
            return Self.json(host)
        case ("vms", 1):
            var vms = await provider.view().vms
            if let host = request.query["host"] { vms = vms.filter { $0.host == host || $0.desiredHost == host } }
            return Self.json(vms)
        case ("vms", 2):
            guard let vm = await provider.view().vms.first(where: { $0.name == rest[1] }) else {
                return Problem.response(404, "Not Found", "no VM named \(rest[1].quotedForMessage) in the spec or on a host read", instance: request.path)
            }
            return Self.json(vm)
        case ("plan", 1):
            return Self.json(await provider.view().plan)
        case ("passes", 1):
            guard let limit = Self.limit(request, default: 20, max: 100) else {
                return Problem.response(400, "Bad Request", "limit must be an integer from 1 to 100", instance: request.path)
            }
            var passes = await provider.view().passes
            if let host = request.query["host"] { passes = passes.filter { $0.host == host } }
            return Self.json(Array(passes.prefix(limit)))
        case ("failovers", 1):
            return Self.json(await provider.view().failovers)
        case ("migrations", 1):
            return Self.json(await provider.view().migrations)
        case ("events", 1):
            guard let limit = Self.limit(request, default: 200, max: 1000) else {
                return Problem.response(400, "Bad Request", "limit must be an integer from 1 to 1000", instance: request.path)
            }
            var since: Date?
            if let text = request.query["since"] {
                guard let date = Self.date(text) else {
                    return Problem.response(400, "Bad Request", "since must be an RFC 3339 date-time (2026-12-07T20:40:00Z)", instance: request.path)
                }
                since = date
            }
            var events = await provider.view().events
            if let since { events = events.filter { $0.at > since } }
            return Self.json(Array(events.prefix(limit)))
        default:
            return Problem.response(404, "Not Found", "no such path; see /openapi.yaml", instance: request.path)
        }
    }

    // MARK: - Writes

    private func write(_ action: String, _ request: EndpointRequest) -> EndpointResponse {
        guard let control else {
            return Problem.response(403, "Forbidden", "virtsync serve is read-only: changes go through git, and passes are the agents'", instance: request.path)
        }
        if let refusal = Self.refuseWrite(request) { return refusal }
        do {
            switch action {
            case "reconcile":
                let pass = control.reconcile(reason: request.headers["x-virtsync-reason"] ?? "api")
                return Self.json(Triggered(pass: pass), status: 202)
            case "suspend":
                let reason = request.query["reason"].flatMap { $0.isEmpty ? nil : $0 }
                let suspension = try control.suspend(reason: reason, by: request.headers["x-virtsync-by"] ?? request.peerAddress)
                return Self.json(Suspended(suspended: true, reason: suspension.reason, since: suspension.since, by: suspension.by))
            default:
                return Self.json(Resumed(suspended: false, pass: try control.resume()))
            }
        } catch {
            return Problem.response(500, "Internal Server Error", "cannot change the suspension: \(error)", instance: request.path)
        }
    }

    /// Writes need the write token, or a caller on this host that is not another site's page:
    /// a browser sends `Origin` with every POST, and a page of another origin must not reach a
    /// loopback agent's writes through its user's browser.
    static func refuseWrite(_ request: EndpointRequest) -> EndpointResponse? {
        switch request.access {
        case .write:
            return nil
        case .local:
            if let origin = request.headers["origin"], let host = request.headers["host"],
               origin != "http://\(host)" && origin != "https://\(host)" {
                return Problem.response(403, "Forbidden", "a write from a page of another origin (\(origin)) is refused", instance: request.path)
            }
            return nil
        case .read, .none:
            return Problem.response(403, "Forbidden", "this needs the write token (http.writeTokenFile) from another machine", instance: request.path)
        }
    }

    struct Triggered: Codable { var pass: Int }
    struct Suspended: Codable {
        var suspended: Bool
        var reason: String?
        var since: Date
        var by: String?
    }
    struct Resumed: Codable {
        var suspended: Bool
        var pass: Int?
    }

    // MARK: - Encoding

    static func json(_ value: some Encodable, status: Int = 200) -> EndpointResponse {
        do {
            var response = EndpointResponse.json(Array(try JSONEncoder.api().encode(value)), status: status)
            response.headers["Cache-Control"] = "no-store"
            return response
        } catch {
            return Problem.response(500, "Internal Server Error", "cannot encode the answer: \(error)")
        }
    }

    static func limit(_ request: EndpointRequest, default value: Int, max: Int) -> Int? {
        guard let text = request.query["limit"] else { return value }
        guard let n = Int(text), (1...max).contains(n) else { return nil }
        return n
    }

    /// RFC 3339, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// RFC 9457 problem details (`application/problem+json`).
package enum Problem {
    struct Body: Codable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var instance: String?
    }

    package static func response(_ status: Int, _ title: String, _ detail: String, instance: String? = nil) -> EndpointResponse {
        let body = (try? JSONEncoder.api().encode(Body(type: "about:blank", title: title, status: status, detail: detail, instance: instance))) ?? Data()
        return EndpointResponse(status: status, headers: ["Content-Type": "application/problem+json", "Cache-Control": "no-store"], body: Array(body))
    }

    static func notAllowed(_ request: EndpointRequest, allow: String) -> EndpointResponse {
        var response = response(405, "Method Not Allowed", "\(request.method) is not allowed here; use \(allow)", instance: request.path)
        response.headers["Allow"] = allow
        return response
    }
}

extension String {
    /// The string in double quotes, for messages.
    var quotedForMessage: String { "\"\(self)\"" }
}
