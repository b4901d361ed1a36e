import ArgumentParser
import Foundation
import VirtsyncAgent
import VirtsyncEngine
import VirtsyncHTTP

/// What `virtsync suspend` and `virtsync resume` share: ask the running agent through its HTTP
/// endpoint (so its status and metrics change at once), and when no agent answers, change the
/// suspension file in its state directory, which the agent reads at its start and before every pass.
enum AgentSuspensionRequest {
    /// Sends `POST path` (`/suspend` or `/resume`) to the agent configured in `configPath`;
    /// when the agent cannot be reached, calls `offline` with the state files and why.
    static func run(configPath: String, path: String, query: String = "",
                    offline: (AgentFiles) throws -> String) async throws {
        let loaded = try AgentConfigFile.load(configPath)
        let files = AgentFiles(stateDirectory: loaded.stateDirectory)
        var why = "its HTTP endpoint is off (http.listen: off)"
        if let listen = loaded.listen {
            // Accepted from this host only: a wildcard listener is reached on loopback.
            let host = switch listen.host {
            case "0.0.0.0", "localhost": "127.0.0.1"
            case "::", "0:0:0:0:0:0:0:0": "::1"
            default: listen.host
            }
            let target = EndpointClient.Target(host: host, port: listen.port, trustCertificateFile: loaded.httpTLS?.certificateFile)
            do {
                let response = try await EndpointClient.send(target, method: "POST", path: path + query,
                                                             headers: ["X-Virtsync-By": who()], timeout: .seconds(10))
                let body = String(decoding: response.body, as: UTF8.self)
                if (200..<300).contains(response.status) {
                    print(body, terminator: "")
                    return
                }
                guard response.status == 403 || response.status == 404 else {
                    Environment.printError("error: the agent answered \(response.status): \(body)")
                    throw ExitCode(Exit.error)
                }
                why = "it answered \(response.status) on \(listen) (\(body.trimmingCharacters(in: .whitespacesAndNewlines)))"
            } catch let error as ExitCode {
                throw error
            } catch {
                why = "it does not answer on \(listen) (\(error))"
            }
        }
        do {
            let done = try offline(files)
            print("\(done)\n(the agent was not reached: \(why); a running agent reads \(files.suspension) before its next pass)")
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }

    /// Who asks, for the record: `root on host-1`.
    static func who() -> String {
        "\(NSUserName()) on \(ProcessInfo.processInfo.hostName)"
    }
}
