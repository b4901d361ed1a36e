import Foundation
import Testing
@testable import VirtsyncAgent
import VirtsyncEngine
import VirtsyncHTTP
import VirtsyncTestSupport

/// `POST /suspend` and `POST /resume`, and the suspension file.
extension AgentRoutesTests {
    @Test("POST /suspend writes the file, shows in /status and /metrics (promtool-clean); /resume removes it and triggers a pass")
    func suspendAndResume() async throws {
        let f = try Fixture()
        let suspended = await f.post("/suspend", query: ["reason": "disk swap"], headers: ["x-virtsync-by": "ops on h1"])
        #expect(suspended.status == 200)
        #expect(suspended.bodyText.hasPrefix("suspended since "))
        #expect(suspended.bodyText.hasSuffix(": disk swap\n"))
        let onDisk = try #require(try AgentSuspension.read(path: f.state.files.suspension))
        #expect(onDisk.reason == "disk swap")
        #expect(onDisk.by == "ops on h1")

        let status = try AgentStatus.decode(await f.get("/status").body)
        #expect(status.suspended?.reason == "disk swap")
        #expect(StatusText.render(status, running: true).contains("Suspended:  since "))
        let scrape = Exposition(await f.get("/metrics").bodyText)
        let lint = try await scrape.promtool()
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(scrape.value("virtsync_suspended") == 1)

        // Suspending again keeps the first time and takes the new reason.
        _ = await f.post("/suspend", query: ["reason": "still swapping"])
        let again = try #require(try AgentSuspension.read(path: f.state.files.suspension))
        #expect(again.since == onDisk.since)
        #expect(again.reason == "still swapping")

        let resumed = await f.post("/resume")
        #expect(resumed.status == 200)
        #expect(resumed.bodyText.hasPrefix("resumed (suspended since "))
        #expect(resumed.bodyText.hasSuffix("; pass 1 triggered\n"))
        #expect(try AgentSuspension.read(path: f.state.files.suspension) == nil)
        #expect(f.state.snapshot.suspended == nil)
        #expect(Exposition(await f.get("/metrics").bodyText).value("virtsync_suspended") == 0)
        #expect(await f.post("/resume").bodyText == "not suspended\n")
    }

    @Test("suspend and resume are refused from another machine (403), like /reconcile, and only POST is allowed")
    func localOnly() async throws {
        let f = try Fixture()
        #expect(await f.post("/suspend", loopback: false).status == 403)
        #expect(await f.post("/resume", loopback: false).status == 403)
        #expect(try AgentSuspension.read(path: f.state.files.suspension) == nil)
        let get = await f.get("/suspend")
        #expect(get.status == 405)
        #expect(get.headers["Allow"] == "POST")
    }

    @Test("a suspension file written while the agent was away is picked up; a damaged one counts as suspended")
    func fileFromOutside() throws {
        let f = try Fixture()
        #expect(f.state.refreshSuspension() == nil)
        try AgentSuspension(reason: "by hand", since: Date(timeIntervalSince1970: 1_800_000_000)).write(path: f.state.files.suspension)
        #expect(f.state.refreshSuspension()?.reason == "by hand")
        #expect(f.state.metrics.render().contains("\nvirtsync_suspended 1"))
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: f.state.files.suspension))
        #expect(f.state.refreshSuspension() != nil)
        #expect(try f.state.resume() != nil)
        #expect(f.state.refreshSuspension() == nil)
    }
}
