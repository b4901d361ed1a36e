import VirtsyncEngine

/// Opens libvirt sessions: the production `HypervisorConnector`.
public struct LibvirtConnector: HypervisorConnector {
    /// Deadlines and limits for every session it opens.
    public var options: LibvirtSessionOptions

    /// Creates a connector.
    public init(options: LibvirtSessionOptions = LibvirtSessionOptions()) {
        self.options = options
    }

    /// Connects to a host's libvirt; `host` is the spec's name for it (used in errors only).
    /// - Throws: `HypervisorError` `.unreachable` or `.timeout`.
    public func connect(host: String, uri: String) async throws -> any HypervisorSession {
        do {
            return try await LibvirtSession.connect(uri: uri, options: options)
        } catch var error as HypervisorError {
            error.operation = "host \(host): \(error.operation)"
            if error.code != .timeout { error.code = .unreachable }
            throw error
        }
    }
}
