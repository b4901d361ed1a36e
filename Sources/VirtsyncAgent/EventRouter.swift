import Foundation
import Logging
import VirtsyncEngine

/// Turns libvirt events of managed resources into debounced pass triggers, and a closed
/// connection into a reconnect.
package final class EventRouter: @unchecked Sendable {
    // `lock` guards every `var`.
    private let lock = NSLock()
    private var loop: AgentLoop?
    private var pass: ReconcilePass?
    private var task: Task<Void, Never>?
    private let state: AgentState
    private let logger = Logger(label: "virtsync.agent")

    package init(state: AgentState) { self.state = state }

    package func attach(loop: AgentLoop, pass: ReconcilePass) {
        lock.withLock {
            self.loop = loop
            self.pass = pass
        }
    }

    /// Follows the events of a new session (the previous session's subscription ends).
    package func subscribe(_ session: any HypervisorSession) {
        guard let source = session as? any HypervisorEventSource else { return }
        let next = Task { [weak self] in
            do {
                let stream = try await source.events()
                for await event in stream {
                    self?.handle(event)
                }
            } catch {
                self?.logger.warning("cannot follow libvirt events; drift is found at the poll interval", metadata: ["error": "\(error)"])
            }
        }
        let previous = lock.withLock { () -> Task<Void, Never>? in
            defer { task = next }
            return task
        }
        previous?.cancel()
    }

    package func stop() {
        lock.withLock { task }?.cancel()
    }

    private func handle(_ event: HypervisorEvent) {
        let (loop, pass) = lock.withLock { (self.loop, self.pass) }
        let key: String
        let detail: String
        switch event {
        case .domain(_, .changed):
            // Devices, metadata, balloon and tunables: the observed-state cache takes note; a
            // guest's balloon can report often, so these never trigger a pass of their own.
            return
        case .domain(let name, let kind):
            key = "domain/\(name)"
            detail = "domain \(name) \(kind.rawValue)"
        case .network(let name, let started):
            key = "network/\(name)"
            detail = "network \(name) \(started ? "started" : "stopped")"
        case .pool(let name, let started):
            key = "pool/\(name)"
            detail = "pool \(name) \(started ? "started" : "stopped")"
        case .eventsLost:
            // The observed-state cache reads everything again on its own; a pass catches up.
            loop?.trigger(.event, detail: "libvirt events lost")
            return
        case .connectionClosed(let reason):
            logger.warning("libvirt connection closed; reconnecting", metadata: ["reason": "\(reason)"])
            pass?.dropSession()
            loop?.trigger(.event, detail: "libvirt connection closed")
            return
        }
        guard state.isManaged(key) else { return }
        state.metrics.event()
        logger.debug("event", metadata: ["event": "\(detail)"])
        loop?.trigger(.event, detail: detail)
    }
}
