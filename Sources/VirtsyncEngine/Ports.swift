import VirtsyncCore

/// A failure talking to a hypervisor, with libvirt's error code when there is one.
public struct HypervisorError: Error, Sendable, CustomStringConvertible {
    /// Broad classes callers switch on.
    public enum Code: String, Sendable {
        /// The host could not be reached or the connection broke.
        case unreachable
        /// The object does not exist.
        case notFound
        /// libvirt rejected the request (bad XML, unsupported operation, busy resource).
        case rejected
        /// The call did not finish within its deadline.
        case timeout
        /// A volume was made but its content (an upload, a copy) did not arrive whole; it may
        /// still be on the host and must never count as present.
        case incomplete
        /// Anything else.
        case other
    }

    public var code: Code
    /// libvirt's numeric error code (`virErrorNumber`), 0 when not from libvirt.
    public var libvirtCode: Int32
    public var message: String
    /// What was being done, e.g. `define domain web-1`.
    public var operation: String

    public init(code: Code, libvirtCode: Int32 = 0, message: String, operation: String) {
        self.code = code
        self.libvirtCode = libvirtCode
        self.message = message
        self.operation = operation
    }

    public var description: String { "\(operation): \(message)" }
}

/// Reads a host's live state. Implementations never change anything: `plan` gets only a reader,
/// so a dry run cannot touch a host by construction.
public protocol HypervisorReader: Sendable {
    /// Lists every domain, network, pool and volume (of active pools) and parses each into the
    /// model. Domains carry their ownership marker; networks, pools and volumes come back with
    /// `managed == false` (the engine fills it from the inventory).
    /// - Throws: `HypervisorError` (`.unreachable`, `.timeout`) when the host cannot be read.
    func observe(host: String) async throws -> ObservedHost
}

/// Changes a host. Each requirement is one libvirt-level operation, idempotent where libvirt
/// allows it; the executor decides order and what to skip.
public protocol HypervisorWriter: Sendable {
    /// Defines (creates or replaces the persistent definition of) a network, pool, volume or
    /// domain from the step's payload, starts networks and pools that should be active, sets
    /// autostart, and performs a domain update's live operations. For a volume: creates it
    /// (blank, overlay or clone, uploads generated content) or resizes it.
    func apply(_ step: PlanStep) async throws
}

/// What a finished migration measured.
public struct MigrationReport: Hashable, Codable, Sendable {
    /// How long the guest was paused at the switch-over, as the hypervisor measured it.
    public var downtimeMilliseconds: Double?
    /// Wall time of the migration call.
    public var seconds: Double

    public init(downtimeMilliseconds: Double? = nil, seconds: Double) {
        self.downtimeMilliseconds = downtimeMilliseconds
        self.seconds = seconds
    }
}

/// A read-only connection to one host: what `plan`, `validate` and review plans hold.
///
/// Dry runs are safe by type: nothing that holds only a `HypervisorReadSession` can change a
/// host. The sessions `ReadOnlyConnector` hands out wrap a full session privately, so not even a
/// cast reaches the writer:
///
/// ```swift
/// let session: any HypervisorReadSession = try await ReadOnlyConnector(connector).connectReader(host: "h", uri: uri)
/// try await session.apply(step)                       // error: no member 'apply'
/// (session as? any HypervisorWriter)?.apply(step)     // always nil: the wrapper is no writer
/// ```
///
/// `scripts/compile-fail.sh` checks the first line above against the built modules.
public protocol HypervisorReadSession: HypervisorReader {
    /// The URI this session is connected to (without credentials).
    var uri: String { get }

    /// What identifies the host whatever URI reaches it (a local socket or `qemu+ssh://` to the
    /// same machine): libvirt's host UUID where the driver has a real one, else the URI. Keys
    /// the host's inventory file and its lock.
    var hostKey: String { get }
}

/// A connection to one host that can change it: only `ApplyWorkflow` asks for one.
public protocol HypervisorSession: HypervisorReadSession, HypervisorWriter {
    /// Moves a domain of this host to `destination`: live (peer-to-peer, run by this host's
    /// libvirt towards `migration.destinationURI`) for a running domain, by redefinition for a
    /// stopped one. On success the domain is defined on the destination only, carrying
    /// `migration.marker`; on failure it is still defined (and running, if it was) here.
    /// Aborted after `migration.settings.timeout`.
    func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport
}

/// Opens read-only sessions per host.
public protocol HypervisorReadConnector: Sendable {
    /// Connects to a host's libvirt for reading.
    /// - Throws: `HypervisorError.unreachable` or `.timeout`.
    func connectReader(host: String, uri: String) async throws -> any HypervisorReadSession
}

/// The read-only view of a connector: its sessions observe and nothing else.
public struct ReadOnlyConnector: HypervisorReadConnector {
    private let base: any HypervisorConnector

    /// Wraps `base`; the sessions it opens are only ever handed out read-only.
    public init(_ base: any HypervisorConnector) { self.base = base }

    public func connectReader(host: String, uri: String) async throws -> any HypervisorReadSession {
        ReadOnlySession(try await base.connect(host: host, uri: uri))
    }
}

/// A session seen through its reading side only.
struct ReadOnlySession: HypervisorReadSession {
    private let base: any HypervisorSession
    init(_ base: any HypervisorSession) { self.base = base }
    var uri: String { base.uri }
    var hostKey: String { base.hostKey }
    func observe(host: String) async throws -> ObservedHost { try await base.observe(host: host) }
}

/// Opens sessions that can write, per host. The composition roots (the executables, the agent's
/// service) pick the libvirt implementation, tests the in-memory one, and hand it to
/// `ApplyWorkflow`; everything that only plans gets `ReadOnlyConnector(connector)`.
public protocol HypervisorConnector: Sendable {
    /// Connects to a host's libvirt.
    /// - Throws: `HypervisorError.unreachable` or `.timeout`.
    func connect(host: String, uri: String) async throws -> any HypervisorSession
}
