import Logging
import ServiceLifecycle
import UnixSignals
import VirtsyncEngine

/// The reconcile loop as a service: it runs until the group shuts down gracefully (SIGTERM or
/// SIGINT), then lets the step in flight finish and starts no other.
package struct ReconcileLoopService: Service, CustomStringConvertible {
    let loop: AgentLoop
    let notifier: SystemdNotifier
    let logger: Logger

    package init(loop: AgentLoop, notifier: SystemdNotifier, logger: Logger) {
        self.loop = loop
        self.notifier = notifier
        self.logger = logger
    }

    package var description: String { "reconcile-loop" }

    package func run() async {
        await withGracefulShutdownHandler {
            await loop.run()
        } onGracefulShutdown: {
            logger.notice("stopping: the step in flight finishes first")
            notifier.stopping()
            loop.stop()
        }
    }
}

/// SIGHUP asks for a pass at once (systemd's `ExecReload`), until the group shuts down.
package struct ReloadSignalService: Service, CustomStringConvertible {
    let loop: AgentLoop
    let notifier: SystemdNotifier
    let logger: Logger

    package init(loop: AgentLoop, notifier: SystemdNotifier, logger: Logger) {
        self.loop = loop
        self.notifier = notifier
        self.logger = logger
    }

    package var description: String { "reload-on-sighup" }

    package func run() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reconcile now")
            notifier.reloading()
            loop.trigger(.signal, detail: "SIGHUP")
            notifier.ready()
        }
    }
}

/// systemd's side: READY once the group runs, then WATCHDOG pings at half the interval systemd
/// asked for, and only while passes make progress (a stuck agent is restarted by systemd).
package struct SystemdWatchdogService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let state: AgentState
    let stallLimit: Double
    let readyStatus: String

    package init(notifier: SystemdNotifier, state: AgentState, stallLimit: Double, readyStatus: String) {
        self.notifier = notifier
        self.state = state
        self.stallLimit = stallLimit
        self.readyStatus = readyStatus
    }

    package var description: String { "systemd-notify" }

    package func run() async {
        notifier.ready(status: readyStatus)
        guard let interval = notifier.watchdogPingInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if state.isHealthy(stallLimit: stallLimit) { notifier.watchdog() }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
