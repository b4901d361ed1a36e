/// What a plan step does.
public enum StepAction: String, Codable, Sendable, CaseIterable {
    case create, update, replace, start, stop, restart, migrate, delete
    /// Take over an existing resource: write the ownership marker (a domain) or the inventory
    /// entry (a network, pool or volume), and change nothing else.
    case adopt
    /// Pause a running domain's vCPUs (`power: paused`); `resume` lets them run again.
    case suspend, resume

    /// The one-character marker used by the text renderer.
    public var symbol: String {
        switch self {
        case .create: return "+"
        case .update: return "~"
        case .replace: return "-/+"
        case .start: return ">"
        case .stop: return "."
        case .restart: return "@"
        case .migrate: return "->"
        case .delete: return "-"
        case .adopt: return "&"
        case .suspend: return "||"
        case .resume: return "|>"
        }
    }
}

/// How disruptive a change is, least to most.
public enum Disruption: String, Codable, Sendable, CaseIterable, Comparable {
    /// No effect on running guests (creating something new, autostart flags).
    case none
    /// Applied to the running guest without a restart.
    case live
    /// Written to the persistent definition; takes effect at the next boot (restart pending).
    case nextBoot = "next-boot"
    /// The guest is restarted (stop + start) by virtsync.
    case restart
    /// Something running stops: a guest (`power: stopped`, or removed from the spec with
    /// pruning) or an active network or pool that is removed.
    case stop
    /// The resource is destroyed and created again.
    case replace
    /// Data would be lost (a volume deleted or shrunk).
    case dataLoss = "data-loss"

    var rank: Int { Disruption.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Disruption, b: Disruption) -> Bool { a.rank < b.rank }
}

/// Live operations an `update` of a running domain performs after (re)defining it.
public enum LiveOperation: Hashable, Codable, Sendable {
    case setMemory(ByteSize)
    case setVcpus(Int)
    case setLink(mac: String, up: Bool)
    /// Give the running guest's VNC/SPICE display the model's password.
    case setGraphicsPassword
    /// Set the I/O limits of a running guest's disk (all six; zero is no limit).
    case setIOTune(target: String, IOTune)
    /// Pin one vCPU of the running guest to these host CPUs (`virDomainPinVcpuFlags`).
    case pinVcpu(vcpu: Int, cpuset: CPUSet)
    /// Pin the running guest's emulator threads (`virDomainPinEmulator`).
    case pinEmulator(CPUSet)
    // Interface options.
    /// Shape the traffic of a running guest's interface, found by MAC (both directions; a
    /// direction that is `nil` is no longer shaped), with `virDomainSetInterfaceParameters`.
    case setInterfaceBandwidth(mac: String, InterfaceBandwidth)
    // Hot-plug.
    /// Attach the definition's disk at `target` to the running guest (`virDomainAttachDeviceFlags`).
    case attachDisk(target: String)
    /// Attach the definition's interface to the running guest: the one with `mac`, or, when the
    /// spec leaves the MAC to libvirt, the `index`-th of the model's interfaces.
    case attachInterface(mac: String?, index: Int)
}

/// What the executor needs to carry out a step: the desired value, never a flag.
public enum StepPayload: Hashable, Codable, Sendable {
    case network(NetworkModel)
    case pool(PoolModel)
    case volume(VolumeModel)
    /// Define a secret object and set its value.
    case secretObject(SecretObjectModel)
    /// Define (create or update) a domain; `live` operations follow on a running domain;
    /// `restart` stops and starts it afterwards.
    case domain(DomainModel, live: [LiveOperation], marker: OwnershipMarker)
    /// Move a domain to another host (the step's host is the source).
    case migration(Migration)
    /// Adopt a network, pool or volume: record it in the inventory under this libvirt UUID
    /// (a volume's path).
    case adopted(uuid: String)
    /// Start, stop, restart or delete need only the reference.
    case none
}

/// One step of a plan.
public struct PlanStep: Hashable, Codable, Sendable, Identifiable {
    /// Stable identifier within the plan: `action:kind:host/name`.
    public var id: String
    public var action: StepAction
    public var resource: ResourceRef
    public var changes: [FieldChange]
    public var disruption: Disruption
    /// Why this step exists, for humans only; never branched on.
    public var reason: String
    /// Steps that must succeed first.
    public var dependsOn: [String]
    public var payload: StepPayload
    /// For migrations: the wave, from 1. A wave starts when every migration of the waves
    /// before it has finished (whatever the outcome); within a wave each host takes part in at
    /// most `maxPerHost` migrations, and never as both source and destination.
    public var wave: Int?

    public init(action: StepAction, resource: ResourceRef, changes: [FieldChange] = [], disruption: Disruption,
                reason: String, dependsOn: [String] = [], payload: StepPayload = .none, wave: Int? = nil) {
        self.wave = wave
        self.id = "\(action.rawValue):\(resource.kind.rawValue):\(resource.host)/\(resource.name)"
        self.action = action
        self.resource = resource
        self.changes = changes
        self.disruption = disruption
        self.reason = reason
        self.dependsOn = dependsOn
        self.payload = payload
    }
}

/// Something the plan reports that is not a step: a pending restart, an unmanaged resource in
/// the way, an unreachable host, a kept volume.
public struct PlanNote: Hashable, Codable, Sendable {
    public enum Severity: String, Codable, Sendable { case info, warning, error }
    public var severity: Severity
    public var resource: ResourceRef?
    public var message: String

    public init(severity: Severity, resource: ResourceRef? = nil, message: String) {
        self.severity = severity
        self.resource = resource
        self.message = message
    }
}

/// What a plan was computed from; applying a saved plan refuses when either moved.
public struct PlanBasis: Hashable, Codable, Sendable {
    public var specDigest: String
    /// The git commit the spec was read from (the head of a review plan), when it came from git.
    public var commit: String?
    /// Review plans (`plan --base --head`): the commit assumed to be running. Such a plan was
    /// computed without reading any host and can never be applied.
    public var baseCommit: String?
    /// Who signed `commit`, when signatures were verified (e.g. `alice@example.com`, with the
    /// key's fingerprint).
    public var signer: String?
    /// The repository (URL with any credentials removed) and the spec directory inside it.
    public var repository: String?
    /// Digest of the observed state (canonical JSON of the model), per host.
    public var observedFingerprint: String
    /// Where the spec was read from (a directory), so `apply --plan` can re-check it.
    public var source: String?
    /// Options that shaped the plan (`prune`, `allowMassDelete`, connect URI).
    public var options: [String: String]
    /// The spec source's owner: written into every marker and inventory entry the plan makes.
    public var owner: String?
    /// The libvirt URI each host was read through (host name → URI): `apply --plan` connects
    /// there, and refuses by name a host that would be reached elsewhere. Absent in plans made
    /// without reading hosts (review plans) and in plans saved before it existed.
    public var connections: [String: String]?

    public init(specDigest: String, commit: String? = nil, observedFingerprint: String, source: String? = nil, options: [String: String] = [:],
                baseCommit: String? = nil, signer: String? = nil, repository: String? = nil) {
        self.specDigest = specDigest
        self.commit = commit
        self.baseCommit = baseCommit
        self.signer = signer
        self.repository = repository
        self.observedFingerprint = observedFingerprint
        self.source = source
        self.options = options
    }
}

/// A plan: ordered steps with their dependencies, notes and basis. A value, rendered or executed.
public struct Plan: Hashable, Codable, Sendable {
    /// Version of the JSON format; bumped on incompatible changes.
    public static let formatVersion = 1

    public var formatVersion: Int
    public var basis: PlanBasis
    /// Steps in a valid execution order (dependencies first).
    public var steps: [PlanStep]
    public var notes: [PlanNote]

    public init(basis: PlanBasis, steps: [PlanStep], notes: [PlanNote] = []) {
        self.formatVersion = Plan.formatVersion
        self.basis = basis
        self.steps = steps
        self.notes = notes
    }

    /// `true` when there is nothing to do.
    public var isEmpty: Bool { steps.isEmpty }

    /// Number of steps per action.
    public var countsByAction: [StepAction: Int] {
        steps.reduce(into: [:]) { $0[$1.action, default: 0] += 1 }
    }

    /// Number of steps per disruption class.
    public var countsByDisruption: [Disruption: Int] {
        steps.reduce(into: [:]) { $0[$1.disruption, default: 0] += 1 }
    }
}
