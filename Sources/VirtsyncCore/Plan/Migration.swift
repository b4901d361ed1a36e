/// One pre-flight check of a migration, shown in the plan.
public struct PreflightCheck: Hashable, Codable, Sendable {
    /// `networks`, `pools`, `storage`, `cpu`, `capacity`.
    public var name: String
    public var passed: Bool
    /// What was found, e.g. `lan active on host-b`, `vms is shared`, `1.5 GiB free, needs 64 MiB`.
    public var detail: String

    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// How a VM's disks reach the destination.
public enum MigrationStorage: String, Codable, Sendable {
    /// No disk needs moving (diskless, read-only media, or all in shared pools).
    case shared
    /// Local disks are copied during the migration (`VIR_MIGRATE_NON_SHARED_DISK`).
    case copy
}

/// What a `migrate` step carries: from where to where, how, and what was checked.
public struct Migration: Hashable, Codable, Sendable {
    public var from: String
    public var to: String
    /// The destination's libvirt as the source host reaches it (peer-to-peer).
    public var destinationURI: String
    /// Live migration of a running VM; `false` moves a stopped VM by redefinition.
    public var live: Bool
    public var storage: MigrationStorage
    public var settings: MigrationSettings
    /// The marker the VM carries on its destination (records a maintenance evacuation).
    public var marker: OwnershipMarker
    public var checks: [PreflightCheck]
    /// An HA VM (`ha: true`): when it runs, the agents' HA hands its owner record over with it.
    /// Nil for other VMs (and left out of saved plans).
    public var ha: Bool?

    public init(from: String, to: String, destinationURI: String, live: Bool, storage: MigrationStorage,
                settings: MigrationSettings, marker: OwnershipMarker, checks: [PreflightCheck], ha: Bool? = nil) {
        self.ha = ha
        self.from = from
        self.to = to
        self.destinationURI = destinationURI
        self.live = live
        self.storage = storage
        self.settings = settings
        self.marker = marker
        self.checks = checks
    }
}

extension PlanStep {
    /// ` host-a → host-b` after a migration's name in rendered plans; empty for other steps.
    public var migrationTitle: String {
        guard case .migration(let m) = payload else { return "" }
        return " \(m.from) → \(m.to)"
    }

    /// The lines a renderer shows under a migration: how it runs and its pre-flight checks.
    public var migrationDetails: [String] {
        guard case .migration(let m) = payload else { return [] }
        var how = [m.live ? "live, peer-to-peer" : "offline (redefinition)", "storage \(m.storage.rawValue)"]
        if let wave { how.insert("wave \(wave)", at: 0) }
        if m.live {
            how.append("max downtime \(Int((m.settings.maxDowntime * 1000).rounded())) ms")
            if let bandwidth = m.settings.bandwidthMiBps { how.append("bandwidth \(bandwidth) MiB/s") }
        }
        if let home = m.marker.evacuatedFrom { how.append("returns to \(home) after maintenance") }
        if m.ha == true, m.live {
            let epoch = m.marker.haEpoch.map { " (epoch \($0) now)" } ?? ""
            how.append("HA: its owner record\(epoch) is handed over to \(m.to) with it")
        }
        return [how.joined(separator: ", ")] + m.checks.map { "check \($0.name): \($0.passed ? "ok" : "FAILED"), \($0.detail)" }
    }
}
