/// The counts a review bot or a policy reads first: steps per action and per disruption class
/// (every class present, zero included), the most disruptive step, the notes per severity and
/// whether the plan carries an error. Written into the JSON plan; never read back (it is
/// computed from the steps and notes).
public struct PlanSummary: Hashable, Sendable, Codable {
    public var steps: Int
    /// Every `StepAction`, by its raw value.
    public var byAction: [String: Int]
    /// Every `Disruption`, by its raw value.
    public var byDisruption: [String: Int]
    /// The most disruptive step's class; nil when there is no step.
    public var maxDisruption: Disruption?
    /// Notes per severity: `info`, `warning`, `error`, each present.
    public var notes: [String: Int]
    /// Whether any note is an error (an unreachable host, a held resource, a refused step):
    /// such a plan does not do everything the spec asks.
    public var hasErrors: Bool

    public init(_ plan: Plan) {
        steps = plan.steps.count
        let actions = plan.countsByAction, disruptions = plan.countsByDisruption
        byAction = Dictionary(uniqueKeysWithValues: StepAction.allCases.map { ($0.rawValue, actions[$0] ?? 0) })
        byDisruption = Dictionary(uniqueKeysWithValues: Disruption.allCases.map { ($0.rawValue, disruptions[$0] ?? 0) })
        maxDisruption = plan.steps.map(\.disruption).max()
        notes = Dictionary(uniqueKeysWithValues: [PlanNote.Severity.info, .warning, .error].map { severity in
            (severity.rawValue, plan.notes.count { $0.severity == severity })
        })
        hasErrors = plan.notes.contains { $0.severity == .error }
    }
}

extension Plan {
    enum CodingKeys: String, CodingKey {
        case formatVersion, basis, steps, notes, summary
    }

    public var summary: PlanSummary { PlanSummary(self) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        basis = try container.decode(PlanBasis.self, forKey: .basis)
        steps = try container.decode([PlanStep].self, forKey: .steps)
        notes = try container.decode([PlanNote].self, forKey: .notes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(basis, forKey: .basis)
        try container.encode(steps, forKey: .steps)
        try container.encode(notes, forKey: .notes)
        try container.encode(summary, forKey: .summary)
    }
}
