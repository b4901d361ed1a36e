/// Options that shape a plan besides the spec itself.
public struct PlanOptions: Hashable, Sendable {
    /// Remove managed resources that are no longer in the spec (also enabled by the spec's
    /// `Settings.prune`).
    public var prune: Bool
    /// Where the spec came from, recorded in the basis.
    public var source: String?
    /// Extra options to record in the basis (e.g. the connect URI).
    public var recorded: [String: String]
    /// Claim every resource of the spec that an earlier virtsync wrote without an owner
    /// (`--claim-unowned`), as if it said `adopt: true`.
    public var claimUnowned: Bool

    public init(prune: Bool = false, source: String? = nil, recorded: [String: String] = [:], claimUnowned: Bool = false) {
        self.claimUnowned = claimUnowned
        self.prune = prune
        self.source = source
        self.recorded = recorded
    }
}

/// Computes a plan from desired and observed state. Pure: values in, a value out.
///
/// Comparison follows "compare what the user asked for": only fields the spec controls are
/// compared, and fields the spec leaves open (`nil`) keep whatever libvirt has.
public enum Planner {
    /// The plan that makes `observed` equal to `desired` on every reachable host.
    /// - Parameter fingerprint: the observed state's fingerprint when the caller computed it
    ///   already (e.g. concurrently); computed here otherwise.
    public static func plan(desired: DesiredState, observed: ObservedState, options: PlanOptions = PlanOptions(),
                            fingerprint: String? = nil) -> Plan {
        var builder = PlanBuilder(prune: options.prune || desired.settings.prune, settings: desired.settings,
                                  specDigest: desired.specDigest, commit: desired.commit)
        builder.owner = desired.owner
        builder.adopt = desired.adopt
        builder.claimUnowned = options.claimUnowned
        let placement = ClusterPlacement.resolve(desired, observed: observed)
        builder.haNames = desired.haMachineNames
        let desired = placement.desired
        builder.notes += placement.notes
        // Moves are looked for in every multi-host plan, even one given an already placed state:
        // a VM on another host must migrate, never be deleted there and created here.
        if desired.hosts.count > 1 {
            builder.cluster = (desired, observed)
            builder.moves = PlanBuilder.moves(desired: desired, observed: observed, placement: placement.result)
            // VMs of the spec that placement left undecided stay where they are, never pruned.
            builder.placedElsewhere = Set(placement.result.unplaced.keys).union(placement.result.unknown.keys)
                .union(placement.result.decisions.keys)
        }
        var usages: [String: HostUsage] = [:]
        for host in desired.hosts {
            guard let live = observed.hosts[host.name] else {
                if let held = observed.dead[host.name] {
                    let names = held.sorted()
                    builder.notes.append(PlanNote(severity: .warning, message:
                        "host \(host.name) is dead (its HA lease expired): nothing is planned for it; "
                        + (names.isEmpty ? "it held no VM" : "its VMs stay down unless HA restarts them elsewhere: \(names.joined(separator: ", "))")))
                    continue
                }
                // A host the caller chose not to read (an agent acts on its own host and reads the
                // others only when placement needs them) is not a conflict.
                guard let reason = observed.unreachable[host.name] else { continue }
                builder.notes.append(PlanNote(severity: .error, message:
                    "host \(host.name) is unreachable (\(reason)); its state is unknown and nothing is planned for it"))
                continue
            }
            let usage = HostUsage(live)
            usages[host.name] = usage
            builder.planStorage(host: host, live: live, usage: usage)
            builder.planNetworks(host: host, live: live, usage: usage)
            builder.planDomains(host: host, live: live)
            // Last: whether an object can go depends on the volume and domain steps.
            builder.planSecretObjects(host: host, live: live)
        }
        builder.dropBlocked(desired)
        builder.hold(desired.held)
        var recorded = options.recorded
        recorded["prune"] = String(builder.prune)
        if options.claimUnowned { recorded["claim_unowned"] = "true" }
        var basis = PlanBasis(specDigest: desired.specDigest, commit: desired.commit,
                              observedFingerprint: fingerprint ?? Fingerprint.of(observed), source: options.source, options: recorded)
        basis.owner = desired.owner
        var ordered = Ordering.order(builder.steps, desired: desired, observed: observed, usages: usages)
        builder.notes += MigrationWaves.assign(&ordered, desired: desired, observed: observed)
        return Plan(basis: basis, steps: ordered, notes: builder.notes)
    }
}

/// Accumulates the steps and notes of one plan.
struct PlanBuilder {
    let prune: Bool
    let settings: SpecSettings
    let specDigest: String
    let commit: String?
    var steps: [PlanStep] = []
    var notes: [PlanNote] = []
    /// Multi-host specs: the placed desired state and what was observed, VMs changing hosts,
    /// and the VMs of the spec that are not removed from a host where placement did not put
    /// them (they are decided elsewhere, or undecided).
    var cluster: (desired: DesiredState, observed: ObservedState)?
    /// The spec's HA VMs (`ha: true`), whose migrations hand their owner record over.
    var haNames: Set<String> = []
    var moves: [String: Move] = [:]
    var placedElsewhere: Set<String> = []
    /// The spec source's owner: only what carries it is changed or removed.
    var owner: String?
    /// Resources the spec adopts, and whether resources without an owner are claimed.
    var adopt: Set<AdoptKey> = []
    var claimUnowned = false
    /// Consumers of secret objects another owner holds, by host: not set up.
    var blockedSecrets: [String: Set<String>] = [:]

    init(prune: Bool, settings: SpecSettings, specDigest: String, commit: String?) {
        self.prune = prune
        self.settings = settings
        self.specDigest = specDigest
        self.commit = commit
    }

    mutating func add(_ step: PlanStep) { steps.append(step) }

    mutating func note(_ severity: PlanNote.Severity, _ ref: ResourceRef?, _ message: String) {
        notes.append(PlanNote(severity: severity, resource: ref, message: message))
    }

    /// Reports a managed resource that left the spec: a delete step with pruning, a note without.
    mutating func removed(_ ref: ResourceRef, disruption: Disruption, detail: String) {
        if prune {
            add(PlanStep(action: .delete, resource: ref, disruption: disruption,
                         reason: "no longer in the spec (pruning on)\(detail.isEmpty ? "" : "; \(detail)")"))
        } else {
            note(.info, ref, "\(ref) is managed by virtsync but no longer in the spec; kept because pruning is off")
        }
    }
}

/// Renders optional values for field changes.
func show<T: CustomStringConvertible>(_ value: T?) -> String? { value.map { $0.description } }

/// Field changes of a network or pool, collected one field at a time. On a create every field
/// that has a value is listed (with no disruption); on an update only the fields that differ.
struct FieldList {
    let creating: Bool
    var changes: [FieldChange] = []

    init(creating: Bool) { self.creating = creating }

    mutating func compare(_ field: String, _ before: String?, _ after: String?, _ disruption: Disruption) {
        if creating {
            if let after { changes.append(FieldChange(field: field, before: nil, after: after, disruption: .none)) }
        } else if before != after {
            changes.append(FieldChange(field: field, before: before, after: after, disruption: disruption))
        }
    }
}
