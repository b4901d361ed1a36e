import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncAgent
import VirtsyncEngine

/// `virtsync status`: what the agent last did, from its status file.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's status: commits, conditions, drift and the last passes.")

    @Option(name: .long, help: "The agent's configuration file (its stateDir is read).")
    var config: String?

    @Option(name: .long, help: "The agent's state directory (instead of --config).")
    var stateDir: String?

    @Flag(name: .long, help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        let directory: String
        if let stateDir {
            directory = stateDir
        } else {
            directory = try AgentConfigFile.load(config ?? "/etc/virtsync/agent.yaml").stateDirectory
        }
        let status: AgentStatus
        do {
            status = try AgentStatus.read(path: AgentFiles(stateDirectory: directory).status)
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
}
