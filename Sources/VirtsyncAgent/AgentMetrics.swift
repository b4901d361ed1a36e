import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The agent's Prometheus metrics: names, help and how a pass updates them.
public struct AgentMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: MetricsRegistry

    static let passes = "virtsync_passes_total"
    static let passDuration = "virtsync_pass_duration_seconds"
    static let steps = "virtsync_steps_total"
    static let managed = "virtsync_managed_resources"
    static let lastAppliedCommitTime = "virtsync_last_applied_commit_timestamp_seconds"
    static let lastApplyTime = "virtsync_last_apply_timestamp_seconds"
    static let drift = "virtsync_drift_resources"
    static let restarts = "virtsync_vm_restarts_total"
    static let restartLimited = "virtsync_restart_limited_vms"
    static let stalled = "virtsync_stalled"
    static let ready = "virtsync_ready"
    static let connected = "virtsync_libvirt_connected"
    static let events = "virtsync_events_total"

    /// Describes every metric in a fresh registry.
    public init() {
        let r = MetricsRegistry()
        r.describe(Self.passes, .counter, help: "Reconcile passes by outcome (converged, applied, failed, stalled, waiting, interrupted).")
        r.describe(Self.passDuration, .histogram(buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]),
                   help: "Wall time of reconcile passes in seconds.")
        r.describe(Self.steps, .counter, help: "Plan steps carried out, by action and outcome (succeeded, failed, skipped).")
        r.describe(Self.managed, .gauge, help: "Managed resources on this host as observed by the last pass, by kind and state.")
        r.describe(Self.lastAppliedCommitTime, .gauge, help: "Committer time (Unix seconds) of the last commit applied completely.")
        r.describe(Self.lastApplyTime, .gauge, help: "When (Unix seconds) the last commit was applied completely.")
        r.describe(Self.drift, .gauge, help: "Resources the last pass found changed behind the spec's back.")
        r.describe(Self.restarts, .counter, help: "VM restarts made by the agent (after a crash, a destroy or a guest shutdown).")
        r.describe(Self.restartLimited, .gauge, help: "VMs left stopped because they reached their restart limit.")
        r.describe(Self.stalled, .gauge, help: "1 while the newest commit is refused (invalid, unsigned, mass delete, history rewrite).")
        r.describe(Self.ready, .gauge, help: "1 when the host matches the newest commit.")
        r.describe(Self.connected, .gauge, help: "1 while the agent holds a libvirt connection.")
        r.describe(Self.events, .counter, help: "libvirt lifecycle events of managed resources that triggered a pass.")
        registry = r
    }

    /// Counts a finished pass.
    func passFinished(_ record: PassRecord) {
        registry.increment(Self.passes, labels: ["outcome": record.outcome.rawValue])
        registry.observe(Self.passDuration, record.seconds)
        registry.set(Self.drift, Double(record.drift))
    }

    /// Counts a finished step.
    func step(_ action: StepAction, outcome: String) {
        registry.increment(Self.steps, labels: ["action": action.rawValue, "outcome": outcome])
    }

    /// Sets the managed-resource gauges from what a pass observed.
    func managed(_ host: ObservedHost) {
        registry.clear(Self.managed)
        var counts: [[String: String]: Double] = [:]
        for domain in host.domains.values where domain.marker != nil {
            counts[["kind": "domain", "state": domain.state.rawValue], default: 0] += 1
        }
        for network in host.networks.values where network.managed {
            counts[["kind": "network", "state": network.active ? "active" : "inactive"], default: 0] += 1
        }
        for pool in host.pools.values where pool.managed {
            counts[["kind": "pool", "state": pool.active ? "active" : "inactive"], default: 0] += 1
        }
        for volume in host.volumes.values where volume.managed {
            counts[["kind": "volume", "state": "present"], default: 0] += 1
        }
        for (labels, value) in counts { registry.set(Self.managed, labels: labels, value) }
    }
}
