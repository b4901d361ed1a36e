// Must compile: the control case, so a failure above is the type's doing, not the harness's.
import VirtsyncCore
import VirtsyncEngine

func writeThroughTheWorkflowsSession(_ session: any HypervisorSession, _ step: PlanStep) async throws {
    try await session.apply(step)
}
