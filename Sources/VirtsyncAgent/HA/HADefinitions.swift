import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The definitions of the spec's HA VMs as the last pass rendered them (model and ownership
/// marker), so HA can define a VM on a host that never had it before it starts it there.
package final class HADefinitions: @unchecked Sendable {
    // `lock` guards `byName`.
    private let lock = NSLock()
    private var byName: [String: (DomainModel, OwnershipMarker)] = [:]
    private var loaded = false
    private var specOwner: String?

    package init() {}

    /// The spec's owner (whose markers HA may touch), once a pass has loaded the spec; nil
    /// before (HA then sees no domains: it cannot tell its own from others').
    package var owner: String?? { lock.withLock { loaded ? .some(specOwner) : nil } }

    /// Replaces every definition with the HA VMs of `desired` (autostart off: HA starts them).
    /// A VM held because its secrets could not be read keeps the definition it had (with the
    /// password and seed of the last pass that read them), or has none: HA never starts a VM
    /// without its display password or with a seed that does not exist.
    package func update(from desired: DesiredState) {
        var next: [String: (DomainModel, OwnershipMarker)] = [:]
        let held = Set(desired.held.filter { $0.kind == .domain }.map(\.name))
        let previous = lock.withLock { byName }
        for machine in desired.machines where machine.placement.ha {
            if held.contains(machine.domain.name) {
                next[machine.domain.name] = previous[machine.domain.name]
                continue
            }
            var model = machine.domain
            model.autostart = false
            next[model.name] = (model, OwnershipMarker(specDigest: desired.specDigest, commit: desired.commit,
                                                       extraDigest: model.extraXML.digest, owner: desired.owner,
                                                       graphicsPassword: model.graphicsPassword?.markerValue))
        }
        lock.withLock {
            byName = next
            specOwner = desired.owner
            loaded = true
        }
    }

    package subscript(name: String) -> (DomainModel, OwnershipMarker)? { lock.withLock { byName[name] } }
}

/// HA's domain port on an agent: `base` (libvirt, this spec owner's domains only) plus one step
/// before a start: a VM not defined on this host is defined first, from the spec, through the
/// same create step a plan would run. The next pass finds it defined and in step.
package struct DefiningHADomains: HADomainControl {
    let base: any HADomainControl
    let definitions: HADefinitions
    let host: String
    /// Applies a create step on this host (a session of the host's libvirt).
    let define: @Sendable (PlanStep) async throws -> Void

    package init(base: any HADomainControl, definitions: HADefinitions, host: String,
                 define: @escaping @Sendable (PlanStep) async throws -> Void) {
        self.base = base
        self.definitions = definitions
        self.host = host
        self.define = define
    }

    package func domains(_ names: Set<String>) async throws -> [String: HALocalDomain] {
        try await base.domains(names)
    }

    package func start(vm: String, epoch: Int64) async throws {
        if try await base.domains([vm])[vm] == nil {
            guard let (model, marker) = definitions[vm] else {
                throw EngineError("HA VM \(vm) is not defined on \(host) and the spec has no definition for it")
            }
            let step = PlanStep(action: .create, resource: ResourceRef(kind: .domain, host: host, name: vm),
                                changes: model.creationFields, disruption: .none,
                                reason: "HA takes it over on this host", payload: .domain(model, live: [], marker: marker))
            try await define(step)
        }
        try await base.start(vm: vm, epoch: epoch)
    }

    package func hardStop(vm: String) async throws {
        try await base.hardStop(vm: vm)
    }

    package func mark(vm: String, epoch: Int64) async throws {
        try await base.mark(vm: vm, epoch: epoch)
    }

    package func processes(_ names: Set<String>) -> [String: Bool]? {
        base.processes(names)
    }
}
