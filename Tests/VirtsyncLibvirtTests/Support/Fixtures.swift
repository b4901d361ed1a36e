import Foundation
import Testing
import VirtsyncGolden
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// Paths, sessions and golden files for the libvirt adapter's tests.
enum Fixture {
    /// This test target's source folder.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// A private libvirt test-driver node: every open starts from the file's state.
    static var nodeURI: String { "test://" + directory.appendingPathComponent("Golden/fixtures/node.xml").path }

    /// A fresh session on the test driver.
    static func session(_ options: LibvirtSessionOptions = LibvirtSessionOptions()) async throws -> LibvirtSession {
        try await LibvirtSession.connect(uri: nodeURI, options: options)
    }

    /// Compares `actual` with `Golden/xml/<name>.xml` (the shared `Golden` helper).
    static func expectGolden(_ name: String, _ actual: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        Golden.expect(actual, matches: directory.appendingPathComponent("Golden/xml/\(name).xml"), name: "Golden/xml/\(name).xml",
                      sourceLocation: sourceLocation)
    }
}

/// Builders of plan steps, as the planner would make them.
enum Steps {
    static let host = "local"
    static let marker = OwnershipMarker(specDigest: "d1g3st", commit: "c0ffee", extraDigest: "")

    static func domain(_ action: StepAction, _ model: DomainModel, live: [LiveOperation] = [],
                       marker: OwnershipMarker = marker) -> PlanStep {
        var marker = marker
        marker.extraDigest = model.extraXML.digest
        return PlanStep(action: action, resource: ResourceRef(kind: .domain, host: host, name: model.name),
                        disruption: .none, reason: "test", payload: .domain(model, live: live, marker: marker))
    }

    static func domain(_ action: StepAction, named name: String) -> PlanStep {
        PlanStep(action: action, resource: ResourceRef(kind: .domain, host: host, name: name), disruption: .none, reason: "test")
    }

    static func network(_ action: StepAction, _ model: NetworkModel) -> PlanStep {
        PlanStep(action: action, resource: ResourceRef(kind: .network, host: host, name: model.name),
                 disruption: .none, reason: "test", payload: .network(model))
    }

    static func pool(_ action: StepAction, _ model: PoolModel) -> PlanStep {
        PlanStep(action: action, resource: ResourceRef(kind: .pool, host: host, name: model.name),
                 disruption: .none, reason: "test", payload: .pool(model))
    }

    static func volume(_ action: StepAction, _ model: VolumeModel) -> PlanStep {
        PlanStep(action: action, resource: ResourceRef(kind: .volume, host: host, name: model.key),
                 disruption: .none, reason: "test", payload: .volume(model))
    }

    static func remove(_ kind: ResourceKind, _ name: String) -> PlanStep {
        PlanStep(action: .delete, resource: ResourceRef(kind: kind, host: host, name: name), disruption: .none, reason: "test")
    }
}

/// Expects `body` to throw a `HypervisorError` with `code`, and returns it.
@discardableResult
func expectHypervisorError(_ code: HypervisorError.Code, sourceLocation: Testing.SourceLocation = #_sourceLocation,
                           _ body: () async throws -> Void) async -> HypervisorError? {
    do {
        try await body()
        Issue.record("expected a HypervisorError .\(code.rawValue), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as HypervisorError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a HypervisorError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

extension DomainModel {
    /// The model with the fields the spec left open filled from what libvirt reported, so a
    /// round trip can be compared with `==`.
    func filled(from parsed: DomainModel) -> DomainModel {
        var model = self
        model.uuid = model.uuid ?? parsed.uuid
        model.maxVcpus = model.maxVcpus ?? parsed.maxVcpus
        model.maxMemory = model.maxMemory ?? parsed.maxMemory
        model.machine = model.machine ?? parsed.machine
        model.graphicsListen = model.graphicsListen ?? parsed.graphicsListen
        for index in model.interfaces.indices where model.interfaces[index].mac == nil && index < parsed.interfaces.count {
            model.interfaces[index].mac = parsed.interfaces[index].mac
        }
        model.extraXML = ExtraXML()
        model.power = parsed.power
        model.restartForUpdates = parsed.restartForUpdates
        model.restart = parsed.restart
        // Platform fields the model leaves open: libvirt's (a default boot order) or the escape hatch's.
        let seen = parsed.platform
        model.platform.bootOrder = model.platform.bootOrder ?? seen.bootOrder
        model.platform.bootMenu = model.platform.bootMenu ?? seen.bootMenu
        model.platform.kernel = model.platform.kernel ?? seen.kernel
        model.platform.secureBoot = model.platform.secureBoot ?? seen.secureBoot
        model.platform.nvramTemplate = model.platform.nvramTemplate ?? seen.nvramTemplate
        model.platform.tpm = model.platform.tpm ?? seen.tpm
        model.platform.guestAgent = model.platform.guestAgent ?? seen.guestAgent
        model.platform.rng = model.platform.rng ?? seen.rng
        model.platform.watchdog = model.platform.watchdog ?? seen.watchdog
        model.platform.video = model.platform.video ?? seen.video
        model.platform.tablet = model.platform.tablet ?? seen.tablet
        model.platform.hostDevices = model.platform.hostDevices ?? seen.hostDevices
        return model
    }
}
