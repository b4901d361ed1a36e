import Foundation
import Logging
import ServiceLifecycle
import VirtsyncCore
import VirtsyncDashboard
import VirtsyncHTTP

/// `virtsync serve`: the REST API and the dashboard for a spec's whole cluster, from a process
/// that holds reader ports only (it can never change a host). It reads every host on an
/// interval and serves the last read, until SIGTERM or SIGINT.
public enum ServeService {
    /// How `serve` listens and reads.
    public struct Settings: Sendable {
        public var endpoint: HTTPEndpointConfiguration
        public var interval: Duration
        public var source: String

        public init(endpoint: HTTPEndpointConfiguration, interval: Duration, source: String) {
            self.endpoint = endpoint
            self.interval = interval
            self.source = source
        }
    }

    /// One read of the cluster: the spec placed, the hosts, the plan; or why the spec could not be read.
    public typealias Reader = @Sendable () async -> (desired: DesiredState?, observed: ObservedState, plan: Plan?, commit: String?, failure: Banner?)

    /// Serves until told to stop. `onListening` gets the port (for `--listen 127.0.0.1:0`).
    public static func run(_ settings: Settings, read: @escaping Reader, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let logger = Logger(label: "virtsync.serve")
        let source = PollingViewSource(source: settings.source)
        let api = ClusterAPI(provider: source, control: nil)
        var endpointSettings = settings.endpoint
        endpointSettings.openPaths.formUnion(ClusterAPI.openPaths)
        let endpoint = try await HTTPEndpoint.start(endpointSettings, logger: Logger(label: "virtsync.http")) { request in
            if let answer = await api.handle(request) { return answer }
            if request.path == "/healthz" { return .text("ok\n") }
            return Problem.response(404, "Not Found", "no such path; try / (the dashboard), /api/v1/cluster or /openapi.yaml", instance: request.path)
        }
        onListening(endpoint.port)
        logger.info("serving", metadata: ["address": "\(HTTPEndpointConfiguration.display(host: settings.endpoint.host, port: endpoint.port))",
                                          "source": "\(settings.source)"])
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: ReadLoop(source: source, read: read, interval: settings.interval), successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: HTTPEndpointService(endpoint: endpoint), successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Reads the cluster every interval until the group shuts down.
    struct ReadLoop: Service {
        let source: PollingViewSource
        let read: Reader
        let interval: Duration

        func run() async {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let r = await read()
                    await source.update(.init(desired: r.desired, observed: r.observed, plan: r.plan, commit: r.commit, failure: r.failure),
                                        at: Date())
                    try? await Task.sleep(for: interval)
                }
            }
        }
    }
}
