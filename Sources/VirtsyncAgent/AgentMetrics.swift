import Foundation
import Prometheus
import VirtsyncCore
import VirtsyncEngine

/// The agent's Prometheus metrics: names, help and how a pass updates them, in a
/// swift-prometheus registry. The agent's service also bootstraps swift-metrics with this
/// registry, so anything instrumented with swift-metrics lands in the same exposition.
public final class AgentMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let managedGauges = Locked<[[String: String]: Gauge]>([:])
    private let process: ProcessMetrics
    private let passDurations: DurationHistogram

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
    static let suspended = "virtsync_suspended"
    package static let connected = "virtsync_libvirt_connected"
    static let events = "virtsync_events_total"
    static let hostReads = "virtsync_host_reads_total"
    static let domainsRead = "virtsync_domains_read_total"
    static let buildInfo = "virtsync_build_info"
    static let haLeaseValid = "virtsync_ha_lease_valid"
    static let haLeaseAge = "virtsync_ha_lease_age_seconds"
    static let haOwned = "virtsync_ha_owned_vms"
    static let haFences = "virtsync_ha_fence_actions_total"
    static let haFailovers = "virtsync_ha_failovers_total"
    static let haRecovery = "virtsync_ha_recovery_seconds"

    static let help: [String: String] = [
        passes: "Reconcile passes by outcome (converged, applied, failed, stalled, waiting, interrupted, suspended).",
        passDuration: "Wall time of reconcile passes in seconds.",
        steps: "Plan steps carried out, by action and outcome (succeeded, failed, skipped).",
        managed: "Managed resources on this host as observed by the last pass, by kind and state.",
        lastAppliedCommitTime: "Committer time (Unix seconds) of the last commit applied completely.",
        lastApplyTime: "When (Unix seconds) the last commit was applied completely.",
        drift: "Resources the last pass found changed behind the spec's back.",
        restarts: "VM restarts made by the agent (after a crash, a destroy or a guest shutdown).",
        restartLimited: "VMs left stopped because they reached their restart limit.",
        stalled: "1 while the newest commit is refused (invalid, unsigned, mass delete, history rewrite).",
        ready: "1 when the host matches the newest commit.",
        suspended: "1 while the agent is suspended (virtsync suspend): passes apply nothing; HA keeps running.",
        connected: "1 while the agent holds a libvirt connection.",
        events: "libvirt lifecycle events of managed resources that triggered a pass.",
        hostReads: "Reads of this host's libvirt state by passes, by kind: full (every domain; first, after lost events, a reconnect or the resync interval) or events (only the domains events named).",
        domainsRead: "Domains whose XML passes read from libvirt (a full read counts every domain).",
        buildInfo: "The running virtsync: always 1, with the version as a label.",
        haLeaseValid: "1 while this host holds an HA lease it knows valid (by its own deadline).",
        haLeaseAge: "Seconds since the last acknowledged renewal of the HA lease was sent.",
        haOwned: "HA VMs whose owner record names this host.",
        haFences: "Hard stops of HA VMs on this host, by cause (leaseDeadline, leaseGone, notOwner, staleEpoch, staleLease, released).",
        haFailovers: "HA VMs of a dead host this host took over and started.",
        haRecovery: "Seconds from seeing a dead owner's lease gone to its VM running here, per takeover.",
    ]

    /// Every metric in a fresh registry, at its initial value, so a scrape shows them all.
    public init(version: String = VirtsyncVersion.current) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        process = ProcessMetrics(registry: registry)
        passDurations = registry.makeDurationHistogram(
            descriptor: Self.descriptor(Self.passDuration),
            buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300].map { .milliseconds(Int64($0 * 1000)) })
        gauge(Self.buildInfo, ["version": version]).set(to: 1)
        for name in [Self.restarts, Self.events] { _ = counter(name) }
        for name in [Self.drift, Self.restartLimited, Self.stalled, Self.ready, Self.suspended, Self.connected] { gauge(name).set(to: 0) }
    }

    /// The Prometheus text exposition (format 0.0.4), process figures read afresh.
    public func render() -> String {
        process.update()
        return registry.emitToString()
    }

    /// A metric's full name with its help text.
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    func counter(_ name: String, _ labels: [String: String] = [:]) -> Counter {
        registry.makeCounter(descriptor: Self.descriptor(name), labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    func gauge(_ name: String, _ labels: [String: String] = [:]) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name), labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Counts a finished pass.
    func passFinished(_ record: PassRecord) {
        counter(Self.passes, ["outcome": record.outcome.rawValue]).increment()
        passDurations.record(.milliseconds(Int64(record.seconds * 1000)))
        gauge(Self.drift).set(to: Double(record.drift))
    }

    /// Counts a finished step.
    public func step(_ action: StepAction, outcome: String) {
        counter(Self.steps, ["action": action.rawValue, "outcome": outcome]).increment()
    }

    /// Counts a restart made by the agent.
    func restarted() { counter(Self.restarts).increment() }

    /// Counts a libvirt event that triggered a pass.
    func event() { counter(Self.events).increment() }

    /// Counts a read of the own host by a pass.
    package func observedRead(full: Bool, domains: Int) {
        counter(Self.hostReads, ["kind": full ? "full" : "events"]).increment()
        counter(Self.domainsRead).increment(by: Int64(domains))
    }

    /// Sets a plain gauge.
    package func set(_ name: String, _ value: Double) { gauge(name).set(to: value) }

    /// Sets the managed-resource gauges from what a pass observed; combinations no longer seen
    /// disappear from the exposition.
    func managed(_ host: ObservedHost) {
        var counts: [[String: String]: Double] = [:]
        // Counted per state first: a label dictionary per domain cost more than the rest of
        // this function at 1,000 domains.
        var domains: [RunState: Double] = [:]
        let values = host.domains.values
        for index in values.indices where values[index].marker != nil {
            domains[values[index].state, default: 0] += 1
        }
        for (state, count) in domains { counts[["kind": "domain", "state": state.rawValue]] = count }
        for network in host.networks.values where network.managed {
            counts[["kind": "network", "state": network.active ? "active" : "inactive"], default: 0] += 1
        }
        for pool in host.pools.values where pool.managed {
            counts[["kind": "pool", "state": pool.active ? "active" : "inactive"], default: 0] += 1
        }
        for volume in host.volumes.values where volume.managed {
            counts[["kind": "volume", "state": "present"], default: 0] += 1
        }
        managedGauges.withLock { gauges in
            for (labels, old) in gauges where counts[labels] == nil {
                registry.unregisterGauge(old)
                gauges[labels] = nil
            }
            for (labels, value) in counts {
                let g = gauges[labels] ?? gauge(Self.managed, labels)
                g.set(to: value)
                gauges[labels] = g
            }
        }
    }
}

/// A value behind a lock.
package final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    package init(_ value: Value) { self.value = value }
    package func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
