extension PlanBuilder {
    /// Decides what happens to an existing resource that the spec names, by who holds it.
    ///
    /// Returns `true` when this spec source owns it and the caller goes on comparing. Otherwise
    /// the resource is never changed: it is adopted (an `adopt` step, which writes only the
    /// marker or inventory entry) when the spec says `adopt: true` (or `--claim-unowned` for one
    /// written without an owner), refused with an error when another owner holds it and the
    /// spec wants to adopt it, and reported otherwise.
    /// - Parameters:
    ///   - differences: the fields in which the resource differs from the spec, for the note
    ///     that tells what the next plan will change once it is adopted.
    ///   - payload: the adopt step's payload.
    ///   - unmanaged: the note for an unmanaged resource the spec does not adopt (used as it is).
    mutating func ownedOrAdopted(_ claim: Claim, ref: ResourceRef, noun: String, differences: [String],
                                 payload: StepPayload, unmanaged: String) -> Bool {
        let wantsAdopt = adopt.contains(AdoptKey(ref.kind, ref.name))
        let drift = differences.isEmpty ? "" : " (differs in: \(differences.joined(separator: ", ")))"
        switch claim {
        case .ours:
            return true
        case .other(let holder):
            if wantsAdopt {
                note(.error, ref, "\(noun) cannot be adopted: it is owned by \(holder); it is never touched (that spec must remove it, or give it up by deleting its marker)")
            } else {
                note(.warning, ref, "\(noun) is owned by \(holder); never changed, started, stopped or removed by this spec\(drift)")
            }
        case .unowned where wantsAdopt || claimUnowned, .unmanaged where wantsAdopt:
            let was = claim == .unowned ? "written by an earlier virtsync without an owner" : "not managed by virtsync"
            add(PlanStep(action: .adopt, resource: ref, disruption: .none,
                         reason: "\(was); adopted: only the \(ref.kind == .domain ? "ownership marker is" : "inventory entry is") written, nothing else changes",
                         payload: payload))
            if !differences.isEmpty {
                note(.info, ref, "\(noun) differs from the spec in: \(differences.joined(separator: ", ")); adoption changes nothing, the next plan shows the update")
            }
        case .unowned:
            note(.warning, ref, "\(noun) was written by an earlier virtsync that recorded no owner; never changed until claimed (add 'adopt: true' to its spec, or plan and apply once with --claim-unowned)\(drift)")
        case .unmanaged:
            note(.warning, ref, unmanaged)
        }
        return false
    }

    /// A resource written without an owner that left the spec: never pruned (it may belong to
    /// another spec), reported once per plan.
    mutating func unownedOutsideSpec(_ ref: ResourceRef, noun: String) {
        guard prune else { return }
        note(.info, ref, "\(noun) was written by an earlier virtsync that recorded no owner and is not in this spec; not pruned (claim it from the spec it belongs to)")
    }
}
