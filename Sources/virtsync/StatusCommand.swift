import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncEtcd

/// `virtsync status`: what the agent last did, from its status file.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's status: commits, conditions, drift and the last passes.",
        discussion: """
            With --cluster, reads the HA records from etcd (the configuration's ha section): the \
            members and their leases, every HA VM's owner and epoch, and this host's last takeovers.
            Exits 0 when the agent is ready, 2 when it is not, 1 on error.

            Examples:
              virtsync status
              virtsync status --state-dir /var/lib/virtsync --json
              virtsync status --cluster --config /etc/virtsync/agent.yaml
            """)

    @Option(name: .long, help: "The agent's configuration file (its stateDir is read).")
    var config: String?

    @Option(name: .long, help: "The agent's state directory (instead of --config).")
    var stateDir: String?

    @Flag(name: .long, help: "Print the status as JSON.")
    var json = false

    @Flag(name: .long, help: "Show the HA cluster from etcd: members, leases, owners and epochs (needs the configuration's ha section).")
    var cluster = false

    func run() async throws {
        if cluster {
            try await runCluster()
            return
        }
        let directory: String
        if let stateDir {
            directory = stateDir
        } else {
            directory = try AgentConfigFile.load(config ?? "/etc/virtsync/agent.yaml").stateDirectory
        }
        let status: AgentStatus
        do {
            status = try AgentFiles(stateDirectory: directory).readStatus()
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        if json {
            print(String(decoding: try status.json(), as: UTF8.self))
        } else {
            print(StatusText.render(status, running: kill(status.pid, 0) == 0 || errno == EPERM), terminator: "")
        }
        // Exit status for scripts: 0 ready, 2 not ready.
        if status.conditions[.ready]?.status != true { throw ExitCode(Exit.changes) }
    }

    /// `--cluster`: the HA records in etcd, and this host's own HA status when its file is there.
    func runCluster() async throws {
        let path = config ?? "/etc/virtsync/agent.yaml"
        let agent = try AgentConfigFile.load(path)
        guard let settings = agent.ha else {
            Environment.printError("error: \(path) has no ha section: there is no HA cluster to show")
            throw ExitCode(Exit.error)
        }
        let tls = settings.caFile.map { EtcdClient.TLS(caFile: $0, certificateFile: settings.certificateFile, keyFile: settings.keyFile) }
        let endpoints = settings.endpoints.map(\.description)
        let details: HAClusterDetails
        do {
            details = try await withEtcdClient(.init(endpoints: endpoints, deadline: .seconds(3), tls: tls)) { client in
                try await EtcdHACoordinator(client: client, prefix: settings.prefix).details()
            }
        } catch {
            Environment.printError("error: cannot read the HA records from etcd (\(endpoints.joined(separator: ", "))): \(error)")
            throw ExitCode(Exit.error)
        }
        let local = try? AgentStatus.read(path: AgentFiles(stateDirectory: stateDir ?? agent.stateDirectory).status)
        if json {
            struct Output: Encodable {
                var cluster: HAClusterDetails
                var host: String?
                var ha: HAStatus?
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(Output(cluster: details, host: local?.host, ha: local?.ha)), as: UTF8.self))
        } else {
            print(StatusText.renderCluster(details, endpoints: endpoints, prefix: settings.prefix, local: local), terminator: "")
        }
    }
}
