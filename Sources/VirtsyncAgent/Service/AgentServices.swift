import Logging
import ServiceLifecycle
import UnixSignals
import VirtsyncEngine

/// The reconcile loop as a service: it runs until the group shuts down gracefully (SIGTERM or
/// SIGINT), then lets the step in flight finish and starts no other.
struct ReconcileLoopService: Service, CustomStringConvertible {
    let loop: AgentLoop
    let notifier: SystemdNotifier
    let logger: Logger

    var description: String { "reconcile-loop" }

    func run() async {
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
struct ReloadSignalService: Service, CustomStringConvertible {
    let loop: AgentLoop
    let notifier: SystemdNotifier
    let logger: Logger

    var description: String { "reload-on-sighup" }

    func run() async {
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
struct SystemdWatchdogService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let state: AgentState
    let stallLimit: Double
    let readyStatus: String

    var description: String { "systemd-notify" }

    func run() async {
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
