import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine

/// The convergence round trip of the XML tests on the test driver's node: a state directory of
/// its own (removed with the run), an apply workflow over one session, and plans read through it.
final class DriverRun {
    let workflow: ApplyWorkflow
    private let state: URL

    init() throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-libvirt-\(UUID().uuidString)")
        workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: try InventoryStore(stateDirectory: state.path),
                                 defaultURI: Fixture.nodeURI)
    }

    deinit { try? FileManager.default.removeItem(at: state) }

    /// Applies `desired`; an apply that does not succeed is recorded as an issue at the caller.
    func apply(_ desired: DesiredState, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let outcome = try await workflow.apply(desired)
        #expect(outcome.report?.ok == true, "\(String(describing: outcome.report))", sourceLocation: sourceLocation)
    }

    /// The plan for `desired` against what the node has now.
    func plan(_ desired: DesiredState) async -> Plan {
        let (sessions, failed) = await workflow.reader.connect(desired)
        return await workflow.reader.plan(desired, sessions: sessions, failed: failed, options: PlanOptions()).0
    }
}
