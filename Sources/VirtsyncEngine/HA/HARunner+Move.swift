import Foundation
import Logging
import VirtsyncCore

extension HARunner {
    /// Why `vm` cannot be live-migrated from this host to `target` now (nil: it can); see
    /// `HAController.moveBlocked`.
    public func moveBlocked(_ vm: String, to target: String, failback: Bool) -> String? {
        controller.moveBlocked(vm, to: target, failback: failback, now: now())
    }

    /// How long `host` has held its current HA lease, as this host saw it (nil: it holds none).
    public func memberFor(_ host: String) -> Duration? {
        controller.memberFor(host, at: now())
    }

    /// Live-migrates `vm` to `target` with its owner record handed over (rule 5 of
    /// `HAController`): marks the record as moving, runs `migrate` (libvirt's migration), reads
    /// this host's libvirt again and records where the VM runs now. Throws `HAMoveRefusal`
    /// without migrating when HA cannot move it now, and whatever `migrate` throws after the
    /// record is settled (or left for the controller to settle).
    public func move<T: Sendable>(_ vm: String, to target: String, migrate: @Sendable () async throws -> T) async throws -> T {
        let begin: HAClaim
        do {
            begin = try controller.beginMove(vm, to: target, now: now())
        } catch {
            logger.notice("HA VM not moved", metadata: ["vm": "\(vm)", "to": "\(target)", "reason": "\(error.reason)"])
            throw error
        }
        flush()
        defer { send(.moveEnded(vm: vm)) }
        do {
            guard let record = try await coordinator.claim(vm: vm, host: host, begin) else {
                send(.claimLost(vm: vm))
                throw HAMoveRefusal(reason: "the owner record of \(vm) changed before the move")
            }
            send(.claimed(vm: vm, record))
        } catch let refusal as HAMoveRefusal {
            throw refusal
        } catch {
            send(.claimLost(vm: vm))
            throw HAMoveRefusal(reason: "the owner record of \(vm) could not be marked for the move: \(error)")
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await migrate())
        } catch {
            outcome = .failure(error)
        }
        // Where the copy is now, read afresh: a view from before the migration could say "here".
        do {
            let runsHere = try await domains.domains([vm])[vm]?.running == true
            if let claim = controller.finishMove(vm, runsHere: runsHere, now: now()) {
                flush()
                // Not written (etcd unreachable, the record changed): the controller settles it.
                await write(vm, claim)
            }
        } catch {
            logger.warning("cannot read an HA VM after its move; HA settles it", metadata: ["vm": "\(vm)", "error": "\(error)"])
        }
        return try outcome.get()
    }
}
