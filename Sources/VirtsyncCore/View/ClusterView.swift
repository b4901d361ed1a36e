import Foundation

/// The whole cluster as the REST API (`GET /api/v1/cluster`) and the dashboard show it: hosts
/// with their capacity and use, VMs with where they should be and where they are, the current
/// plan, the last passes, failovers, migrations and a timeline of events, and banners for what
/// needs a human (a stalled agent, a suspension, an unreachable host).
///
/// A value, built by `ClusterViewBuilder` from what an agent or `virtsync serve` read; the
/// OpenAPI document (`specs/api/openapi.yaml`) describes its JSON, which is encoded with sorted
/// keys and ISO 8601 dates, and leaves out absent optionals.
public struct ClusterView: Codable, Sendable, Equatable {
    /// Who built this view: an agent (for its host, and its peers' published reports) or
    /// `virtsync serve` (reading every host of a spec).
    public struct Server: Codable, Sendable, Equatable {
        /// `agent` or `serve`.
        public var kind: String
        /// The agent's host; nil for `serve`.
        public var host: String?
        public var version: String

        public init(kind: String, host: String? = nil, version: String) {
            self.kind = kind
            self.host = host
            self.version = version
        }
    }

    public var formatVersion = 1
    public var generatedAt: Date
    public var server: Server
    /// The repository (and path) or directory the spec comes from.
    public var source: String
    /// The commit whose spec is shown (enforced by the agent, or read by `serve`).
    public var commit: String?
    public var hosts: [HostView]
    /// Sorted by name.
    public var vms: [VMView]
    public var plan: PlanView
    /// Newest first.
    public var passes: [PassView]
    /// Newest first.
    public var failovers: [FailoverView]
    /// Newest first.
    public var migrations: [MigrationView]
    /// The timeline, newest first.
    public var events: [EventView]
    /// What needs a human, most severe first.
    public var banners: [Banner]

    public init(generatedAt: Date, server: Server, source: String, commit: String? = nil, hosts: [HostView] = [], vms: [VMView] = [],
                plan: PlanView = PlanView(), passes: [PassView] = [], failovers: [FailoverView] = [], migrations: [MigrationView] = [],
                events: [EventView] = [], banners: [Banner] = []) {
        self.generatedAt = generatedAt
        self.server = server
        self.source = source
        self.commit = commit
        self.hosts = hosts
        self.vms = vms
        self.plan = plan
        self.passes = passes
        self.failovers = failovers
        self.migrations = migrations
        self.events = events
        self.banners = banners
    }
}

/// Memory in MiB and vCPUs: a host's declared capacity, or what its running VMs use.
public struct CapacityView: Codable, Sendable, Equatable {
    public var memoryMiB: Int?
    public var vcpus: Int?

    public init(memoryMiB: Int? = nil, vcpus: Int? = nil) {
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
    }
}

/// One host of the spec.
public struct HostView: Codable, Sendable, Equatable {
    /// An agent's word about its host: its last pass and whether it is suspended or stalled.
    public struct Agent: Codable, Sendable, Equatable {
        /// When the agent published this (its wall clock).
        public var reportedAt: Date
        public var lastPass: Int?
        public var lastOutcome: String?
        public var lastReason: String?
        public var ready: Bool?
        public var stalled: Bool
        public var suspended: Bool

        public init(reportedAt: Date, lastPass: Int? = nil, lastOutcome: String? = nil, lastReason: String? = nil, ready: Bool? = nil,
                    stalled: Bool = false, suspended: Bool = false) {
            self.reportedAt = reportedAt
            self.lastPass = lastPass
            self.lastOutcome = lastOutcome
            self.lastReason = lastReason
            self.ready = ready
            self.stalled = stalled
            self.suspended = suspended
        }
    }

    /// The host's HA lease, as etcd (or the agent) last said.
    public struct Lease: Codable, Sendable, Equatable {
        /// The lease ID in hexadecimal, as `etcdctl lease list` prints it (a string: etcd's
        /// 64-bit IDs are beyond what a JavaScript number holds exactly).
        public var id: String
        /// Seconds the lease has left; nil when unknown.
        public var secondsLeft: Double?

        public init(id: Int64, secondsLeft: Double? = nil) {
            self.id = String(UInt64(bitPattern: id), radix: 16)
            self.secondsLeft = secondsLeft
        }
    }

    public var name: String
    public var uri: String?
    /// Whether its libvirt could be read (by the agent on it, or by `serve`).
    public var reachable: Bool
    /// Why it could not be read.
    public var unreachableReason: String?
    /// HA: its lease expired (it fenced or was reset).
    public var dead: Bool
    public var maintenance: Bool
    public var labels: [String: String]
    /// HA: the lease it holds; nil without HA or while it holds none.
    public var lease: Lease?
    /// Declared in the spec (or, when not declared, what libvirt reports of the machine).
    public var capacity: CapacityView
    /// What its running and paused VMs take.
    public var used: CapacityView
    /// VMs observed on it (managed by this spec).
    public var vmCount: Int
    public var runningCount: Int
    /// Its agent's report; nil when no agent report is known (always so for `serve`).
    public var agent: Agent?

    public init(name: String, uri: String? = nil, reachable: Bool, unreachableReason: String? = nil, dead: Bool = false,
                maintenance: Bool = false, labels: [String: String] = [:], lease: Lease? = nil, capacity: CapacityView = CapacityView(),
                used: CapacityView = CapacityView(), vmCount: Int = 0, runningCount: Int = 0, agent: Agent? = nil) {
        self.name = name
        self.uri = uri
        self.reachable = reachable
        self.unreachableReason = unreachableReason
        self.dead = dead
        self.maintenance = maintenance
        self.labels = labels
        self.lease = lease
        self.capacity = capacity
        self.used = used
        self.vmCount = vmCount
        self.runningCount = runningCount
        self.agent = agent
    }
}

/// One VM: of the spec, or managed by it on a host (one the spec no longer has is shown too).
public struct VMView: Codable, Sendable, Equatable {
    /// The last plan step carried out on the VM.
    public struct LastStep: Codable, Sendable, Equatable {
        public var action: String
        public var host: String
        /// `succeeded`, `failed` or `skipped`.
        public var outcome: String
        public var message: String?
        public var at: Date
        public var seconds: Double
        /// The agent pass that ran it.
        public var pass: Int?

        public init(action: String, host: String, outcome: String, message: String? = nil, at: Date, seconds: Double, pass: Int? = nil) {
            self.action = action
            self.host = host
            self.outcome = outcome
            self.message = message
            self.at = at
            self.seconds = seconds
            self.pass = pass
        }
    }

    public var name: String
    /// Where the spec (after placement) wants it; nil when the spec no longer has it.
    public var desiredHost: String?
    /// Where it was observed; nil when it runs nowhere that could be read.
    public var host: String?
    /// `running`, `paused`, `shutoff`, `crashed`, `other`, or `absent` (defined nowhere that
    /// could be read) or `unknown` (its host could not be read).
    public var power: String
    /// `running`, `stopped` or `paused`; nil when the spec no longer has it.
    public var desiredPower: String?
    public var memoryMiB: Int
    public var vcpus: Int
    /// Whether the spec asks for HA.
    public var ha: Bool
    /// HA: the host the owner record names, and its epoch.
    public var haOwner: String?
    public var haEpoch: Int64?
    /// What the plan would change on it, one line per step (`update: memory 1 GiB -> 2 GiB`).
    public var drift: [String]
    public var lastStep: LastStep?

    public init(name: String, desiredHost: String? = nil, host: String? = nil, power: String, desiredPower: String? = nil, memoryMiB: Int = 0,
                vcpus: Int = 0, ha: Bool = false, haOwner: String? = nil, haEpoch: Int64? = nil, drift: [String] = [], lastStep: LastStep? = nil) {
        self.name = name
        self.desiredHost = desiredHost
        self.host = host
        self.power = power
        self.desiredPower = desiredPower
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.ha = ha
        self.haOwner = haOwner
        self.haEpoch = haEpoch
        self.drift = drift
        self.lastStep = lastStep
    }
}

/// The current plan: what would run next.
public struct PlanView: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var host: String
        public var action: String
        /// `domain`, `network`, `pool`, `volume`, `secret`.
        public var kind: String
        public var name: String
        /// `none`, `live`, `next-boot`, `restart`, `stop`, `replace`, `data-loss` (coloured as in the terminal).
        public var disruption: String
        public var reason: String
        /// The fields it changes.
        public var fields: [String]

        public init(host: String, action: String, kind: String, name: String, disruption: String, reason: String, fields: [String] = []) {
            self.host = host
            self.action = action
            self.kind = kind
            self.name = name
            self.disruption = disruption
            self.reason = reason
            self.fields = fields
        }
    }

    public struct Note: Codable, Sendable, Equatable {
        /// `info`, `warning` or `error`.
        public var severity: String
        public var message: String

        public init(severity: String, message: String) {
            self.severity = severity
            self.message = message
        }
    }

    /// `Plan: 2 to create, 1 to update. Disruption: 1 live, ...` or `No changes.`
    public var summary: String
    public var steps: [Step]
    public var notes: [Note]

    public init(summary: String = "No changes.", steps: [Step] = [], notes: [Note] = []) {
        self.summary = summary
        self.steps = steps
        self.notes = notes
    }
}

/// One agent pass (or, for `serve`, one read of the cluster).
public struct PassView: Codable, Sendable, Equatable {
    public var host: String
    public var id: Int
    public var trigger: String
    public var startedAt: Date
    public var seconds: Double
    /// `converged`, `applied`, `failed`, `stalled`, `waiting`, `interrupted`, `suspended`.
    public var outcome: String
    public var reason: String
    public var message: String?
    /// Steps planned by action.
    public var planned: [String: Int]
    public var commit: String?

    public init(host: String, id: Int, trigger: String, startedAt: Date, seconds: Double, outcome: String, reason: String,
                message: String? = nil, planned: [String: Int] = [:], commit: String? = nil) {
        self.host = host
        self.id = id
        self.trigger = trigger
        self.startedAt = startedAt
        self.seconds = seconds
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.planned = planned
        self.commit = commit
    }
}

/// An HA takeover: a VM started on `to` after `from` was lost.
public struct FailoverView: Codable, Sendable, Equatable {
    public var vm: String
    public var from: String
    public var to: String
    public var epoch: Int64
    public var at: Date
    /// From the old owner's lease seen gone to the VM running on `to`; nil when not measured here.
    public var seconds: Double?

    public init(vm: String, from: String, to: String, epoch: Int64, at: Date, seconds: Double? = nil) {
        self.vm = vm
        self.from = from
        self.to = to
        self.epoch = epoch
        self.at = at
        self.seconds = seconds
    }
}

/// A live migration the plan carried out (or one `serve` saw happen: a VM that left a host for another).
public struct MigrationView: Codable, Sendable, Equatable {
    public var vm: String
    public var from: String
    public var to: String
    public var at: Date
    /// Wall time of the migration; nil when only its effect was seen.
    public var seconds: Double?
    /// The guest's pause at the switch-over, as the hypervisor measured it.
    public var downtimeMilliseconds: Double?
    /// `succeeded`, `failed`, `skipped` or `observed`.
    public var outcome: String

    public init(vm: String, from: String, to: String, at: Date, seconds: Double? = nil, downtimeMilliseconds: Double? = nil, outcome: String) {
        self.vm = vm
        self.from = from
        self.to = to
        self.at = at
        self.seconds = seconds
        self.downtimeMilliseconds = downtimeMilliseconds
        self.outcome = outcome
    }
}

/// One line of the timeline.
public struct EventView: Codable, Sendable, Equatable {
    public var at: Date
    /// `pass`, `step`, `failover`, `migration`, `host`, `vm`, `stall`.
    public var kind: String
    /// `info`, `warning` or `error`.
    public var severity: String
    public var host: String?
    public var vm: String?
    public var message: String

    public init(at: Date, kind: String, severity: String = "info", host: String? = nil, vm: String? = nil, message: String) {
        self.at = at
        self.kind = kind
        self.severity = severity
        self.host = host
        self.vm = vm
        self.message = message
    }
}

/// Something that needs a human.
public struct Banner: Codable, Sendable, Equatable {
    /// `stalled` (a refused commit: invalid spec, bad signature, mass delete), `suspended`,
    /// `unreachable` (a host that could not be read), `dead` (HA: a host whose lease expired),
    /// `invalid-spec` (`serve` could not load the spec).
    public var kind: String
    /// `warning` or `error`.
    public var severity: String
    public var host: String?
    public var message: String
    /// Where in the spec, when the cause is a spec file: `vms.yaml`, line and column.
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var commit: String?

    public init(kind: String, severity: String, host: String? = nil, message: String, file: String? = nil, line: Int? = nil,
                column: Int? = nil, commit: String? = nil) {
        self.kind = kind
        self.severity = severity
        self.host = host
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.commit = commit
    }
}

extension JSONEncoder {
    /// The REST API's encoding (and the host reports'): compact, sorted keys, ISO 8601 dates;
    /// absent optionals are left out, never `null`.
    public static func api() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.api()` wrote.
    public static func api() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension ClusterView {
    /// JSON as the API serves it.
    public func json() throws -> Data { try JSONEncoder.api().encode(self) }

    /// Reads what `json()` wrote.
    public static func decode(_ data: Data) throws -> ClusterView { try JSONDecoder.api().decode(ClusterView.self, from: data) }
}
