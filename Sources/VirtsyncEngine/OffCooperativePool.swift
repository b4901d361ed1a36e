import Foundation

/// Runs blocking work (a libgit2 fetch waits on the network up to its own deadline) on a thread
/// of its own, so Swift's few cooperative threads stay free for timers, events and the HTTP
/// endpoint meanwhile.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.name = "virtsync.blocking"
        thread.start()
    }
}
