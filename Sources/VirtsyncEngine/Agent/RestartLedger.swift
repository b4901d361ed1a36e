import Foundation
import VirtsyncCore

/// The restarts the agent made per VM, and the VMs it gave up on, kept in
/// `<state>/restarts.json` so a crash-looping VM stays limited when the agent itself restarts.
///
/// A restart is a `start` of a managed VM that stopped on its own or by hand (a crash, a
/// `virsh destroy`, a guest shutdown), as `StopCause.classify` tells; starting a VM that was
/// never started, or that virtsync stopped itself, is not one. When a VM has had `maxRestarts`
/// restarts within its `restartWindow`, the agent stops restarting it and reports it. It stays
/// stopped until its spec changes or someone starts it by hand.
public struct RestartLedger: Codable, Sendable, Equatable {
    /// One VM's record.
    public struct Entry: Codable, Sendable, Equatable {
        /// Times of the restarts the agent made, oldest first (only those within the window are kept).
        public var restarts: [Date] = []
        /// Set when the agent gave up on the VM.
        public var limitedAt: Date?
        /// Fingerprint of the VM's spec when the agent gave up: a change of the spec retries.
        public var limitedSpec: String?
        /// Why, in words.
        public var message: String?

        public init() {}
    }

    public var formatVersion = 1
    /// By `host/name`.
    public var domains: [String: Entry] = [:]

    /// An empty ledger.
    public init() {}

    /// What `limit` decided.
    public struct Decision: Sendable, Equatable {
        /// The plan without the starts that would exceed a limit (and steps that depend on them).
        public var plan: Plan
        /// VMs (by `host/name`) the plan restarts: record them with `recordRestart` once the step succeeded.
        public var restarting: Set<String>
        /// VMs at their limit, with the message to report.
        public var limited: [String: String]
    }

    /// Applies the restart limits to `plan` at `now`.
    public mutating func limit(_ plan: Plan, observed: ObservedState, desired: DesiredState, now: Date) -> Decision {
        var removed: Set<String> = []
        var restarting: Set<String> = []
        var notes: [PlanNote] = []

        // Nothing recorded (the usual case): nothing to age or forget, and no key to build per VM.
        if !domains.isEmpty {
            for host in desired.hosts {
                for vm in host.domains {
                    let key = "\(host.name)/\(vm.name)"
                    guard var entry = domains[key] else { continue }
                    let seen = observed.hosts[host.name]?.domains[vm.name]
                    entry.restarts.removeAll { now.timeIntervalSince($0) > vm.restart.window }
                    if entry.limitedAt != nil {
                        // Someone started it by hand, or the spec changed: try again from zero.
                        if seen?.state.isActive == true || entry.limitedSpec != Fingerprint.of(vm) {
                            entry = Entry()
                        }
                    }
                    domains[key] = entry.restarts.isEmpty && entry.limitedAt == nil ? nil : entry
                }
            }
            // Forget VMs that left the spec.
            let inSpec = Set(desired.hosts.flatMap { h in h.domains.map { "\(h.name)/\($0.name)" } })
            domains = domains.filter { inSpec.contains($0.key) }
        }

        for step in plan.steps where step.action == .start && step.resource.kind == .domain {
            let key = "\(step.resource.host)/\(step.resource.name)"
            guard let seen = observed.hosts[step.resource.host]?.domains[step.resource.name],
                  let cause = StopCause.classify(seen), cause != .notStarted,
                  let vm = desired.host(named: step.resource.host)?.domains.first(where: { $0.name == step.resource.name })
            else { continue }
            var entry = domains[key] ?? Entry()
            if entry.limitedAt == nil && entry.restarts.count >= vm.restart.maxRestarts {
                entry.limitedAt = now
                entry.limitedSpec = Fingerprint.of(vm)
                entry.message = "\(step.resource.name) was restarted \(entry.restarts.count) times within \(Self.describe(vm.restart.window)) and stopped again; it is left stopped until its spec changes or someone starts it"
            }
            if entry.limitedAt != nil {
                removed.insert(step.id)
                notes.append(PlanNote(severity: .warning, resource: step.resource, message: entry.message ?? "restart limit reached"))
            } else {
                restarting.insert(key)
            }
            domains[key] = entry
        }

        var out = plan
        // Steps that depend on a removed one cannot run either.
        var changed = !removed.isEmpty
        while changed {
            changed = false
            for step in out.steps where !removed.contains(step.id) && step.dependsOn.contains(where: removed.contains) {
                removed.insert(step.id)
                changed = true
            }
        }
        out.steps.removeAll { removed.contains($0.id) }
        out.notes += notes
        let limited = domains.compactMapValues { $0.limitedAt == nil ? nil : $0.message ?? "restart limit reached" }
        return Decision(plan: out, restarting: restarting, limited: limited)
    }

    /// Records a restart the agent made.
    public mutating func recordRestart(_ key: String, at time: Date) {
        domains[key, default: Entry()].restarts.append(time)
    }

    /// `10m`, `1h30m`.
    static func describe(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        return (h > 0 ? "\(h)h" : "") + (m > 0 ? "\(m)m" : "") + (s > 0 || total == 0 ? "\(s)s" : "")
    }

    /// Reads the ledger; an absent file is empty. A damaged one is refused (the caller reports it
    /// and starts from an empty ledger only if told to).
    public static func read(path: String) throws -> RestartLedger {
        guard let data = FileManager.default.contents(atPath: path) else { return RestartLedger() }
        do {
            return try JSONDecoder.records.decode(RestartLedger.self, from: data)
        } catch {
            throw EngineError("\(path) is damaged (\(error))")
        }
    }

    /// Writes the ledger atomically.
    public func write(path: String) throws {
        try AtomicFile.write(path: path, data: try JSONEncoder.records.encode(self))
    }
}
