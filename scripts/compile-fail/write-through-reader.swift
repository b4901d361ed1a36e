// Must NOT compile: what `plan` holds cannot write (DESIGN §2 rule 2).
import VirtsyncCore
import VirtsyncEngine

func writeThroughWhatPlanHolds(_ session: any HypervisorReadSession, _ step: PlanStep) async throws {
    try await session.apply(step)
}
