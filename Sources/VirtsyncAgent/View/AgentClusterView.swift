import Foundation
import Logging
import VirtsyncCore
import VirtsyncDashboard
import VirtsyncEngine

/// Where agents meet to see the whole cluster: each publishes the report about its own host, and
/// reads its peers' with the HA records (owners, members and their leases). Over etcd when HA
/// runs (`EtcdReportBoard`); an agent without HA sees its own host only.
package protocol ClusterBoard: Sendable {
    func publish(_ report: HostReport) async throws
    func reports() async throws -> [String: HostReport]
    func details() async throws -> HAClusterDetails
}

/// The API's cluster view on an agent: its own host from its last pass, and, with a board, its
/// peers as their agents last reported them.
package struct AgentClusterView: ClusterViewProvider {
    let state: AgentState
    let board: (any ClusterBoard)?
    let clock: any AgentClock

    package init(state: AgentState, board: (any ClusterBoard)?, clock: any AgentClock) {
        self.state = state
        self.board = board
        self.clock = clock
    }

    package func view() async -> ClusterView {
        let status = state.snapshot
        let host = status.host
        let now = clock.wallNow()
        let own = state.activity.report(status: status, at: now)
        var reports = [host: own]
        var owners: [String: (host: String, epoch: Int64)] = [:]
        var leases: [String: HostView.Lease] = [:]
        var banners: [Banner] = []
        if let board {
            do {
                for (name, report) in try await board.reports() where name != host { reports[name] = report }
                let details = try await board.details()
                for owner in details.owners { owners[owner.vm] = (owner.host, owner.epoch) }
                for member in details.members {
                    leases[member.host] = HostView.Lease(id: member.lease, secondsLeft: member.secondsLeft.map(Double.init))
                }
            } catch {
                banners.append(Banner(kind: "unreachable", severity: "warning", host: host,
                                      message: "the agent on \(host) cannot read its peers' reports from etcd: \(error)"))
            }
        }
        let read = state.activity.placedRead()
        var observed = ObservedState()
        if let seen = read?.observed.hosts[host] { observed.hosts[host] = seen }
        observed.dead = read?.observed.dead ?? [:]
        if read == nil { observed.unreachable[host] = "no pass has read libvirt yet" }
        let builder = ClusterViewBuilder(
            server: .init(kind: "agent", host: host, version: VirtsyncVersion.current), source: status.source, commit: own.commit,
            desired: read?.placed, observed: observed, plan: read.map { PeerView.ownSteps($0.plan, host: host) },
            reports: reports, owners: owners, leases: leases, banners: banners,
            unread: board == nil ? "an agent reads only its own host: run HA (peers publish through etcd) or virtsync serve for the cluster"
                                 : "its agent has published no report")
        return builder.build(at: now)
    }
}

/// The agent's write endpoints for the API: a pass now, suspend, resume.
package struct AgentControl: ClusterControl {
    let state: AgentState
    let loop: AgentLoop

    package init(state: AgentState, loop: AgentLoop) {
        self.state = state
        self.loop = loop
    }

    package func reconcile(reason: String?) -> Int { loop.trigger(.manual, detail: reason) }

    package func suspend(reason: String?, by: String?) throws -> (reason: String?, since: Date, by: String?) {
        let suspension = try state.suspend(reason: reason, by: by)
        return (suspension.reason, suspension.since, suspension.by)
    }

    package func resume() throws -> Int? {
        guard try state.resume() != nil else { return nil }
        return loop.trigger(.manual, detail: "resumed")
    }
}

extension ReportPublisher {
    /// The largest report published: etcd refuses a request over 1.5 MiB by default.
    static let maxBytes = 1_000_000

    /// The report, or, when its JSON is over `maxBytes` (thousands of VMs on one host), the
    /// report without its VM list, with a banner that says so.
    static func bounded(_ report: HostReport) -> HostReport {
        guard let size = try? report.json().count, size > maxBytes else { return report }
        var trimmed = report
        trimmed.banners.append(Banner(kind: "unreachable", severity: "warning", host: report.host,
                                      message: "\(report.host)'s report is \(size / 1024) KiB, over what etcd takes: its \(report.vms.count) VMs are not listed to its peers; its own dashboard shows them"))
        trimmed.vms = []
        trimmed.lastSteps = [:]
        return trimmed
    }
}

/// Publishes the agent's report about its host to the board while the agent runs. What peers
/// must see soon (its VMs and their power, its plan, takeovers, migrations, steps, banners, a
/// pass that did not converge) goes out within `interval` of the change; what changes with every
/// pass (the pass list, the lease's time left) at most every `quiet`. Every put is a new etcd
/// revision: an idle cluster writes one small report per host a minute, not one per pass.
package struct ReportPublisher: Sendable {
    let state: AgentState
    let board: any ClusterBoard
    let clock: any AgentClock
    let interval: Duration
    let quiet: Double

    package init(state: AgentState, board: any ClusterBoard, clock: any AgentClock, interval: Duration = .seconds(2), quiet: Double = 60) {
        self.state = state
        self.board = board
        self.clock = clock
        self.interval = interval
        self.quiet = quiet
    }

    /// The part of a report whose change is published at once.
    static func significant(_ report: HostReport) -> HostReport {
        var out = report
        out.reportedAt = Date(timeIntervalSince1970: 0)
        out.agent.reportedAt = out.reportedAt
        out.agent.lastPass = nil
        out.passes = []
        out.lease?.secondsLeft = nil
        return out
    }

    /// Whether to publish `report` now, given what was published last and when.
    static func due(_ report: HostReport, last: HostReport?, lastAt: Double, now: Double, quiet: Double) -> Bool {
        guard let last else { return true }
        if significant(report) != significant(last) { return true }
        var unchanged = report
        unchanged.reportedAt = last.reportedAt
        unchanged.agent.reportedAt = last.agent.reportedAt
        return unchanged != last && now - lastAt >= quiet
    }

    package func run() async {
        let logger = Logger(label: "virtsync.report")
        var last: HostReport?
        var lastAt = 0.0
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            let report = state.activity.report(status: state.snapshot, at: clock.wallNow())
            guard Self.due(report, last: last, lastAt: lastAt, now: clock.now(), quiet: quiet) else { continue }
            do {
                try await board.publish(Self.bounded(report))
                last = report
                lastAt = clock.now()
                if failing { logger.info("report published again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot publish the host report", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}
