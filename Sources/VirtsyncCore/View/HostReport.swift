import Foundation

/// What an agent says about its own host, for the cluster view: published to its peers (through
/// etcd when HA runs) and read by its own API. An agent reads only its own host's libvirt, so
/// its peers learn that host's VMs, plan and history from this.
public struct HostReport: Codable, Sendable, Equatable {
    /// How many recent steps, migrations and events a report keeps.
    public static let kept = 50

    public var formatVersion = 1
    public var host: String
    public var reportedAt: Date
    /// The commit its last pass enforced.
    public var commit: String?
    public var agent: HostView.Agent
    /// The VMs observed on it by its last pass (managed ones).
    public var vms: [VMView]
    /// What its running VMs take, and its capacity as libvirt reports it (when the spec declares none).
    public var used: CapacityView
    public var machine: CapacityView?
    /// Its own steps of the current plan.
    public var plan: [PlanView.Step]
    /// Newest first.
    public var passes: [PassView]
    public var failovers: [FailoverView]
    public var migrations: [MigrationView]
    /// The last step that touched each VM, by name.
    public var lastSteps: [String: VMView.LastStep]
    public var events: [EventView]
    public var banners: [Banner]
    public var lease: HostView.Lease?

    public init(host: String, reportedAt: Date, commit: String? = nil, agent: HostView.Agent, vms: [VMView] = [],
                used: CapacityView = CapacityView(), machine: CapacityView? = nil, plan: [PlanView.Step] = [], passes: [PassView] = [],
                failovers: [FailoverView] = [], migrations: [MigrationView] = [], lastSteps: [String: VMView.LastStep] = [:],
                events: [EventView] = [], banners: [Banner] = [], lease: HostView.Lease? = nil) {
        self.host = host
        self.reportedAt = reportedAt
        self.commit = commit
        self.agent = agent
        self.vms = vms
        self.used = used
        self.machine = machine
        self.plan = plan
        self.passes = passes
        self.failovers = failovers
        self.migrations = migrations
        self.lastSteps = lastSteps
        self.events = events
        self.banners = banners
        self.lease = lease
    }

    /// Compact JSON (sorted keys, ISO 8601 dates), as published.
    public func json() throws -> Data { try JSONEncoder.api().encode(self) }

    /// Reads what `json()` wrote.
    public static func decode(_ data: Data) throws -> HostReport { try JSONDecoder.api().decode(HostReport.self, from: data) }
}
