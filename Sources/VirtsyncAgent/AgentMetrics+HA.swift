import Prometheus

extension AgentMetrics {
    /// Shows the HA metrics (a scrape of an agent with HA lists them before anything happens).
    func haStarted() {
        for name in [Self.haLeaseValid, Self.haLeaseAge, Self.haOwned] { gauge(name).set(to: 0) }
        _ = counter(Self.haFailovers)
        _ = recoveryHistogram
    }

    /// The lease as the controller holds it, and how many HA VMs this host owns.
    func haLease(valid: Bool, ageSeconds: Double?, owned: Int) {
        gauge(Self.haLeaseValid).set(to: valid ? 1 : 0)
        gauge(Self.haLeaseAge).set(to: ageSeconds ?? 0)
        gauge(Self.haOwned).set(to: Double(owned))
    }

    /// Counts a hard stop of an HA VM, by cause.
    func haFenced(cause: String) { counter(Self.haFences, ["cause": cause]).increment() }

    /// Counts a takeover and records how long it took here.
    func haRecovered(seconds: Double) {
        counter(Self.haFailovers).increment()
        recoveryHistogram.record(.milliseconds(Int64(seconds * 1000)))
    }

    private var recoveryHistogram: DurationHistogram {
        registry.makeDurationHistogram(descriptor: Self.descriptor(Self.haRecovery),
                                       buckets: [0.5, 1, 2, 3, 5, 8, 10, 15, 30, 60, 120].map { .milliseconds(Int64($0 * 1000)) })
    }
}
