import Foundation
import Logging
import ServiceLifecycle
import VirtsyncCore
import VirtsyncEngine

/// HA as a service of the agent's group: the runner's loops, and the status and metrics
/// refreshed every second. On a graceful stop, a host without a watchdog stops its HA VMs and
/// gives its lease back (nothing would fence it while the agent is away); a host with one keeps
/// them running and its lease persisted, and a restart within the deadline resumes both (a
/// longer absence is the watchdog's to end).
package struct HAService: Service, CustomStringConvertible {
    let ha: AgentHA
    let hasWatchdog: Bool
    let logger = Logger(label: "virtsync.ha")

    package init(ha: AgentHA, hasWatchdog: Bool) {
        self.ha = ha
        self.hasWatchdog = hasWatchdog
    }

    package var description: String { "ha" }

    package func run() async {
        let runner = ha.runner
        let ha = ha
        let loops = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                group.addTask {
                    while !Task.isCancelled {
                        await ha.refresh()
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                await group.waitForAll()
            }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await loops.value
            } onCancel: {
                loops.cancel()
            }
        } onGracefulShutdown: {
            loops.cancel()
        }
        if hasWatchdog {
            logger.notice("HA stops; the HA VMs keep running and the watchdog covers this host until the agent is back")
        } else {
            logger.notice("HA stops without a watchdog: stopping this host's HA VMs and giving the lease back")
            await runner.release()
        }
    }
}
