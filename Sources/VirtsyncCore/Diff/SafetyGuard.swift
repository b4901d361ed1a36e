/// Why a plan is refused before anything runs.
public struct PlanRefusal: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks a plan against the safety rules that do not depend on a single resource.
public enum SafetyGuard {
    /// Number of resources in `observed` that `owner` owns (the base of the mass-delete guard).
    public static func managedCount(_ observed: ObservedState, owner: String? = nil) -> Int {
        observed.hosts.values.reduce(0) { sum, h in
            sum + h.domains.values.filter { $0.claim(by: owner).isOurs }.count
                + h.networks.values.filter { $0.claim(by: owner).isOurs }.count
                + h.pools.values.filter { $0.claim(by: owner).isOurs }.count
                + h.volumes.values.filter { $0.claim(by: owner).isOurs }.count
        }
    }

    /// Refuses a plan that deletes more than `maxFraction` of the managed resources (a guard
    /// against an empty or truncated spec), unless `allow` is set.
    public static func checkMassDelete(_ plan: Plan, observed: ObservedState, maxFraction: Double, allow: Bool,
                                       owner: String? = nil) throws(PlanRefusal) {
        let deletes = plan.steps.filter { $0.action == .delete }.count
        guard deletes > 0, !allow else { return }
        let managed = managedCount(observed, owner: owner)
        guard managed > 0 else { return }
        let share = Double(deletes) / Double(managed)
        if share > maxFraction {
            let pct = Int((share * 100).rounded())
            let limit = Int((maxFraction * 100).rounded())
            throw PlanRefusal("refusing a plan that deletes \(deletes) of \(managed) managed resources (\(pct)% > \(limit)%, the spec's maxDeletePercent); check that the spec is complete, or pass --allow-mass-delete")
        }
    }
}
