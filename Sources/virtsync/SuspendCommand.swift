import ArgumentParser
import Foundation
import VirtsyncAgent
import VirtsyncEngine

/// `virtsync suspend`: the agent stops applying the spec until `virtsync resume`.
struct SuspendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend the agent on this host: its passes apply nothing until virtsync resume (HA keeps running).",
        discussion: """
            Asks the running agent through its HTTP endpoint; when no agent answers, writes the \
            suspension file in its state directory, which the agent reads when it starts and \
            before every pass. The suspension survives restarts of the agent.

            Examples:
              virtsync suspend --reason "disk swap on kvm-3"
              virtsync suspend --config /etc/virtsync/agent.yaml
              virtsync status   # shows Suspended: since ..., and why
            """)

    @Option(name: .long, help: "The agent's configuration file (its http.listen and stateDir are used).")
    var config: String = "/etc/virtsync/agent.yaml"

    @Option(name: .long, help: "Why, shown by virtsync status, /status and the agent's log.")
    var reason: String?

    func run() async throws {
        var query = ""
        if let reason {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "&=+#")
            query = "?reason=" + (reason.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }
        try await AgentSuspensionRequest.run(configPath: config, path: "/suspend", query: query) { files in
            var suspension = (try AgentSuspension.read(path: files.suspension))
                ?? AgentSuspension(reason: nil, since: Date(), by: AgentSuspensionRequest.who())
            if let reason { suspension.reason = reason }
            try suspension.write(path: files.suspension)
            return "suspended \(suspension.summary)"
        }
    }
}
