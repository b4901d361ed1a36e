import Foundation
import VirtsyncCore

/// The cluster view of `virtsync serve`: every host of a spec read on an interval (with reader
/// ports only), the plan a dry run makes, and a timeline of what changed between two reads. A
/// read that fails (an invalid spec, a repository that cannot be fetched) keeps the last good
/// view and raises a banner that names the file and line.
package actor PollingViewSource: ClusterViewProvider {
    /// One read of the cluster.
    package struct Read: Sendable {
        /// The spec, placed; nil when it could not be loaded (then `failure` says why).
        package var desired: DesiredState?
        package var observed: ObservedState
        package var plan: Plan?
        package var commit: String?
        package var failure: Banner?

        package init(desired: DesiredState?, observed: ObservedState = ObservedState(), plan: Plan? = nil, commit: String? = nil,
                     failure: Banner? = nil) {
            self.desired = desired
            self.observed = observed
            self.plan = plan
            self.commit = commit
            self.failure = failure
        }
    }

    private let source: String
    private var current: ClusterView
    private var hasRead = false
    private var events: [EventView] = []
    private var migrations: [MigrationView] = []
    private var failovers: [FailoverView] = []
    private var lastFailure: String?

    package init(source: String, at now: Date = Date()) {
        self.source = source
        let server = ClusterView.Server(kind: "serve", version: VirtsyncVersion.current)
        self.current = ClusterView(generatedAt: now, server: server, source: source,
                                   banners: [Banner(kind: "unreachable", severity: "warning", message: "the first read of the cluster has not finished yet")])
    }

    package func view() -> ClusterView { current }

    /// Takes a new read into the view.
    package func update(_ read: Read, at now: Date) {
        guard read.desired != nil else {
            let failure = read.failure ?? Banner(kind: "invalid-spec", severity: "error", message: "the spec could not be read")
            if lastFailure != failure.message {
                events.insert(EventView(at: now, kind: "stall", severity: "error", message: failure.message), at: 0)
                lastFailure = failure.message
            }
            current.banners = [failure] + current.banners.filter { $0.kind != "invalid-spec" && $0.kind != "stalled" }
            current.events = Array(events.prefix(ClusterViewBuilder.eventsKept))
            current.generatedAt = now
            return
        }
        if lastFailure != nil {
            events.insert(EventView(at: now, kind: "stall", message: "the spec reads again"), at: 0)
            lastFailure = nil
        }
        let builder = ClusterViewBuilder(server: current.server, source: source, commit: read.commit, desired: read.desired,
                                         observed: read.observed, plan: read.plan, banners: read.failure.map { [$0] } ?? [])
        var view = builder.build(at: now)
        if hasRead {
            let changes = ViewChanges.between(current, view, at: now)
            migrations = Array((changes.migrations + migrations).prefix(HostReport.kept))
            failovers = Array((changes.failovers + failovers).prefix(HostReport.kept))
            let failoverEvents = changes.failovers.map { f in
                EventView(at: now, kind: "failover", severity: "warning", host: f.to, vm: f.vm,
                          message: "\(f.vm) runs on \(f.to) now; \(f.from) was lost (epoch \(f.epoch))")
            }
            events = Array((changes.events + failoverEvents + events).prefix(ClusterViewBuilder.eventsKept))
        }
        hasRead = true
        view.events = events
        view.migrations = migrations
        view.failovers = failovers
        current = view
    }
}
