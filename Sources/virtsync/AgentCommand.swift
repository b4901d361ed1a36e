import ArgumentParser
import Foundation
import Logging
import VirtsyncAgent
import VirtsyncAgentService
import VirtsyncCore
import VirtsyncSpec

/// `virtsync agent --config FILE`: the long-running service.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the reconcile agent: follow the spec repository and keep this host equal to it.",
        discussion: """
            Runs until SIGTERM; the systemd unit starts it with its configuration file.

            Examples:
              virtsync agent --check
              virtsync agent --config /etc/virtsync/agent.yaml
            """)

    @Option(name: .long, help: "The agent's configuration file (see specs/agent-config.md).")
    var config: String = "/etc/virtsync/agent.yaml"

    @Flag(name: .long, help: "Only check the configuration file, then exit (0 when it is valid).")
    var check = false

    func run() async throws {
        let loaded = try AgentConfigFile.load(config)
        if check {
            print("\(config): valid (host \(loaded.host), repository \(loaded.source.repo))")
            return
        }
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, level: Logger.Level(rawValue: loaded.logLevel) ?? .info,
                                 format: loaded.logFormat == .json ? .json : .logfmt)
        }
        do {
            try await AgentService.run(loaded)
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }
}

/// Loading the configuration for the agent-related commands.
enum AgentConfigFile {
    /// The configuration, or its diagnostics printed and exit 1.
    static func load(_ path: String) throws -> AgentConfig {
        let (config, diagnostics) = AgentConfigLoader.load(path: path)
        if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
        guard let config else { throw ExitCode(Exit.error) }
        return config
    }
}
