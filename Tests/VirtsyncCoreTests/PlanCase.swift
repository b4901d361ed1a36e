import Testing
import VirtsyncCore

/// One golden plan: its inputs, built in Swift because they are model values, and the folder
/// `Golden/plans/<name>/` holding what a reviewer reads of it (`plan.txt`, `plan.md`, `plan.json`).
struct PlanCase: Sendable, CustomTestStringConvertible {
    /// The folder name under `Golden/plans/`.
    let name: String
    let desired: DesiredState
    let observed: ObservedState
    let options: PlanOptions
    /// For a review plan (`plan --base --head`): what the basis records besides the planner's.
    let review: Review?

    /// The base of a review plan and who signed its head.
    struct Review: Sendable {
        /// The spec at the base commit; the case's `observed` is `.assuming(base)`.
        var base: DesiredState
        var signer: String?
        var repository: String?
    }

    init(_ name: String, desired: DesiredState, observed: ObservedState, options: PlanOptions = PlanCase.cliOptions) {
        self.name = name
        self.desired = desired
        self.observed = observed
        self.options = options
        self.review = nil
    }

    /// A review plan: `head` planned against the state `base` would have once applied.
    init(_ name: String, base: DesiredState, head: DesiredState, signer: String? = nil, repository: String? = nil,
         options: PlanOptions = PlanCase.reviewOptions) {
        self.name = name
        self.desired = head
        self.observed = .assuming(base)
        self.options = options
        self.review = Review(base: base, signer: signer, repository: repository)
    }

    /// The plan, as the CLI would compute it.
    var plan: Plan { plan(observed: observed) }

    /// The plan against another observed state (equal to `observed`, in the determinism tests).
    func plan(observed: ObservedState) -> Plan {
        var plan = Planner.plan(desired: desired, observed: observed, options: options)
        if let review {
            plan.basis.baseCommit = review.base.commit
            plan.basis.signer = review.signer
            plan.basis.repository = review.repository
        }
        return plan
    }

    var testDescription: String { name }

    /// What the CLI records in the basis (`Frontend.planOptions`), with a fixed source directory.
    static let cliOptions = PlanOptions(source: "/srv/virtsync/spec",
                                        recorded: ["connect": "qemu:///system", "allow_mass_delete": "false"])

    /// What a review plan records: no host is read, so no connect URI.
    static let reviewOptions = PlanOptions(source: "/srv/virtsync/spec", recorded: ["allow_mass_delete": "false"])

    /// A fixed spec digest, so that the goldens move only when the planner or a renderer does.
    static let specDigest = "5e7c0a9d1b3f4e6a8c2d0b9e7f5a3c1d2e4f6a8b0c9d7e5f3a1b2c4d6e8f0a9b"
    /// A fixed commit for the cases whose spec came from git.
    static let commit = "9b1d4e7a2c5f8e0b3d6a9c2e5f8b1d4a7c0e3f6b"

    /// Every case; each has a folder of the same name under `Golden/plans/`.
    static let all: [PlanCase] = [
        emptyHost, noChanges, liveAndNextBoot, pruning, unreachableHost, volumeSizes, hostileValues,
        powerState, cpuTuning, networkAndPoolChanges, reviewPullRequest, reviewWithoutPrune, restartPolicies,
        interfaceOptions,
    ]
}
