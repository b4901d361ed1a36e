import VirtsyncXML
import Foundation
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

/// Deadlines and limits of a libvirt session.
public struct LibvirtSessionOptions: Hashable, Sendable {
    /// Deadline of opening the connection.
    public var connectTimeout: Duration
    /// Deadline of one ordinary call (a define, a lookup, a batch of reads).
    public var callTimeout: Duration
    /// Deadline of calls that copy data: cloning and uploading volumes, building pools.
    public var storageTimeout: Duration
    /// How long `stop` waits for a guest to shut down by ACPI before destroying it; zero
    /// destroys at once (the default: test guests have no OS to react).
    public var shutdownTimeout: Duration
    /// Domains read per call while observing (one call per batch keeps each call short).
    public var observeBatchSize: Int
    /// Domain XML reads in flight at once while observing.
    public var observeReaders: Int

    /// Creates options; the defaults suit a local or LAN host.
    public init(connectTimeout: Duration = .seconds(10), callTimeout: Duration = .seconds(30),
                storageTimeout: Duration = .seconds(3600), shutdownTimeout: Duration = .zero,
                observeBatchSize: Int = 64, observeReaders: Int = 4) {
        self.connectTimeout = connectTimeout
        self.callTimeout = callTimeout
        self.storageTimeout = storageTimeout
        self.shutdownTimeout = shutdownTimeout
        self.observeBatchSize = observeBatchSize
        self.observeReaders = observeReaders
    }
}

/// The hypervisor ports over one libvirt connection: observes a host and applies plan steps.
public final class LibvirtSession: HypervisorSession {
    /// The URI, without a password.
    public var uri: String { connection.uri }
    /// The host's libvirt UUID. For the test driver, whose state lives in the process that
    /// opened it (and whose UUID is the same everywhere), the URI and the process: two
    /// processes on `test:///default` are two hosts.
    public var hostKey: String {
        if uri.hasPrefix("test:") { return "\(uri)#pid\(ProcessInfo.processInfo.processIdentifier)" }
        return facts?.hostUUID?.lowercased() ?? uri
    }
    /// The connection the session works on.
    public let connection: LibvirtConnection
    /// libvirt's domain type for new domains: `kvm`, `qemu` (TCG, no usable KVM) or `test`.
    public let domainType: String
    /// Deadlines and limits.
    public let options: LibvirtSessionOptions
    /// The host's architecture, CPU, memory and UUID, read once at connect (they do not change
    /// while the daemon runs); reported with every observation for migration pre-flight checks.
    public let facts: HostFacts?

    /// A session over an open connection.
    public init(connection: LibvirtConnection, domainType: String, options: LibvirtSessionOptions = LibvirtSessionOptions(),
                facts: HostFacts? = nil) {
        self.connection = connection
        self.domainType = domainType
        self.options = options
        self.facts = facts
    }

    /// Opens a connection and chooses the domain type from the host's capabilities.
    /// - Throws: `HypervisorError` `.unreachable` or `.timeout`.
    public static func connect(uri: String, options: LibvirtSessionOptions = LibvirtSessionOptions()) async throws -> LibvirtSession {
        let connection = try await LibvirtConnection.open(uri: uri, timeout: options.connectTimeout)
        let (capabilities, node) = try await connection.run("read capabilities", timeout: options.callTimeout) { call in
            guard let xml = takeString(virConnectGetCapabilities(call.conn)) else { throw call.error("read capabilities") }
            var info = virNodeInfo()
            try call.check(virNodeGetInfo(call.conn, &info), "read node info")
            return (xml, info)
        }
        return LibvirtSession(connection: connection, domainType: domainType(capabilitiesXML: capabilities), options: options,
                              facts: facts(capabilitiesXML: capabilities, node: node))
    }

    /// Host facts from the capabilities XML and `virNodeGetInfo`.
    static func facts(capabilitiesXML: String, node: virNodeInfo) -> HostFacts {
        let root = try? XMLParser.parse(capabilitiesXML)
        let cpu = root?.path("host/cpu")
        return HostFacts(arch: cpu?.child("arch")?.text.trimmed ?? "unknown", cpuVendor: cpu?.child("vendor")?.text.trimmed,
                         cpuModel: cpu?.child("model")?.text.trimmed, memory: .kib(UInt64(node.memory)), cpus: Int(node.cpus),
                         hostUUID: root?.path("host/uuid")?.text.trimmed)
    }

    /// The domain type a host can run: `kvm` when its capabilities offer KVM for hardware
    /// virtual machines of the host's own architecture (so `/dev/kvm` is usable), `test` on
    /// libvirt's test driver, else `qemu` (software emulation).
    public static func domainType(capabilitiesXML: String) -> String {
        guard let root = try? XMLParser.parse(capabilitiesXML) else { return "qemu" }
        let hostArch = root.path("host/cpu/arch")?.text.trimmed ?? "x86_64"
        var types: [String] = []
        for guest in root.children(named: "guest") where guest.child("os_type")?.text.trimmed == "hvm" {
            guard let arch = guest.child("arch") else { continue }
            for domain in arch.children(named: "domain") {
                guard let type = domain[attribute: "type"] else { continue }
                if arch[attribute: "name"] == hostArch { types.append(type) }
                if type == "test" { types.append(type) }
            }
        }
        if types.contains("kvm") { return "kvm" }
        if types.contains("test") { return "test" }
        return "qemu"
    }

    /// Carries out one plan step.
    ///
    /// Idempotent where it can be, so a pass that crashed half-way converges on the next one:
    /// creating what exists (with a matching definition) succeeds, deleting what is gone succeeds.
    /// A domain without the ownership marker is never changed (`.rejected`).
    /// - Throws: `HypervisorError`.
    public func apply(_ step: PlanStep) async throws {
        if step.action == .adopt {
            return step.resource.kind == .domain ? try await adoptDomain(step) : try await checkAdoptable(step)
        }
        switch step.resource.kind {
        case .domain: try await applyDomain(step)
        case .network: try await applyNetwork(step)
        case .pool: try await applyPool(step)
        case .volume: try await applyVolume(step)
        case .secret: try await applySecretObject(step)
        }
    }

    /// Runs a body on the connection with the ordinary deadline.
    func run<T: Sendable>(_ operation: String, timeout: Duration? = nil,
                          _ body: @escaping @Sendable (LibvirtCall) throws -> T) async throws -> T {
        try await connection.run(operation, timeout: timeout ?? options.callTimeout, body)
    }

    /// `run`, but side by side with other calls of this connection instead of one after
    /// another: for calls on one domain that can take seconds (a start spawns QEMU, a destroy
    /// waits for it to exit). libvirt runs jobs of different domains in parallel and orders
    /// those of one domain itself; the plan never runs two steps of one domain at once.
    /// Measured with 20 tiny guests: starting them took 14.3 s one by one and 6.0 s four at a
    /// time (`virtsync-bench --small-only`).
    func runSideBySide<T: Sendable>(_ operation: String, timeout: Duration? = nil,
                                    _ body: @escaping @Sendable (LibvirtCall) throws -> T) async throws -> T {
        try await connection.runConcurrently(operation, timeout: timeout ?? options.callTimeout, body)
    }

    /// The error for a step whose payload does not fit its action.
    func missingPayload(_ step: PlanStep) -> HypervisorError {
        HypervisorError(code: .other, message: "the step carries no \(step.resource.kind.rawValue) payload",
                        operation: "\(step.action.rawValue) \(step.resource)")
    }

    /// The error for an action the session does not carry out for a kind.
    func unsupported(_ step: PlanStep) -> HypervisorError {
        HypervisorError(code: .rejected, message: "\(step.action.rawValue) is not supported for a \(step.resource.kind.rawValue)",
                        operation: "\(step.action.rawValue) \(step.resource)")
    }
}
