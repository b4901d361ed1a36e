import ArgumentParser
import Foundation
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncHTTP

/// `virtsync reconcile --now`: asks the running agent for a pass at once.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Ask the running agent for a pass now (through its HTTP endpoint on this host).",
        discussion: """
            Examples:
              virtsync reconcile --now
              virtsync reconcile --now --wait --timeout 120
            """)

    @Flag(name: .long, help: "Run the pass now (required: the only mode).")
    var now = false

    @Option(name: .long, help: "The agent's configuration file (its http.listen is used).")
    var config: String = "/etc/virtsync/agent.yaml"

    @Flag(name: .long, help: "Wait for the pass to finish and print its outcome; exit 0 when it converged or applied.")
    var wait = false

    @Option(name: .long, help: "Seconds to wait with --wait.")
    var timeout: Int = 600

    func validate() throws {
        if !now { throw ValidationError("give --now") }
    }

    func run() async throws {
        let loaded = try AgentConfigFile.load(config)
        guard let listen = loaded.listen else {
            Environment.printError("error: the agent's HTTP endpoint is off (http.listen: off); send SIGHUP instead: systemctl reload virtsync-agent")
            throw ExitCode(Exit.error)
        }
        // /reconcile is accepted from this host only: a wildcard listener is reached on loopback.
        // With TLS, the agent's own certificate is trusted (the address is not its name).
        let host = switch listen.host {
        case "0.0.0.0": "127.0.0.1"
        case "::", "0:0:0:0:0:0:0:0": "::1"
        default: listen.host
        }
        let target = EndpointClient.Target(host: host == "localhost" ? "127.0.0.1" : host, port: listen.port,
                                           trustCertificateFile: loaded.httpTLS?.certificateFile)
        let response: EndpointResponse
        do {
            response = try await EndpointClient.send(target, method: "POST", path: wait ? "/reconcile?wait=1" : "/reconcile",
                                                     timeout: .seconds(wait ? timeout : 10))
        } catch {
            Environment.printError("error: cannot reach the agent: \(error)")
            throw ExitCode(Exit.error)
        }
        if response.status == 403 && !listen.isLoopback {
            Environment.printError("error: the agent listens on \(listen) only, and accepts /reconcile from loopback; send SIGHUP instead: systemctl reload virtsync-agent")
            throw ExitCode(Exit.error)
        }
        guard (200..<300).contains(response.status) else {
            Environment.printError("error: the agent answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
            throw ExitCode(Exit.error)
        }
        guard wait else {
            print(String(decoding: response.body, as: UTF8.self), terminator: "")
            return
        }
        guard let record = try? PassRecord.decode(response.body) else {
            Environment.printError("error: unexpected answer: \(String(decoding: response.body, as: UTF8.self))")
            throw ExitCode(Exit.error)
        }
        print("pass \(record.id): \(record.outcome.rawValue) (\(record.reason)) in \(String(format: "%.2f", record.seconds)) s; planned: \(record.plannedSummary)"
              + (record.enforcedCommit.map { "; commit \($0.prefix(12))" } ?? "") + (record.message.map { "\n\($0)" } ?? ""))
        if record.outcome != .converged && record.outcome != .applied { throw ExitCode(Exit.error) }
    }
}
