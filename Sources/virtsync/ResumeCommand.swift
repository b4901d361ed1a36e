import ArgumentParser
import VirtsyncAgent
import VirtsyncEngine

/// `virtsync resume`: ends a `virtsync suspend`; the agent runs a pass at once.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume the agent on this host after virtsync suspend; it runs a pass at once.",
        discussion: """
            Asks the running agent through its HTTP endpoint; when no agent answers, removes the \
            suspension file from its state directory (the agent then applies at its next pass).

            Examples:
              virtsync resume
              virtsync resume --config /etc/virtsync/agent.yaml
            """)

    @Option(name: .long, help: "The agent's configuration file (its http.listen and stateDir are used).")
    var config: String = "/etc/virtsync/agent.yaml"

    func run() async throws {
        try await AgentSuspensionRequest.run(configPath: config, path: "/resume") { files in
            let ended = try AgentSuspension.read(path: files.suspension)
            try AgentSuspension.remove(path: files.suspension)
            return ended.map { "resumed (suspended \($0.summary))" } ?? "not suspended"
        }
    }
}
