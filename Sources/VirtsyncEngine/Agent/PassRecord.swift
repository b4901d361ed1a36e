import Foundation
import VirtsyncCore

/// What started a pass.
public enum PassTrigger: String, Codable, Sendable, CaseIterable {
    /// The first pass after the agent started.
    case startup
    /// The poll interval elapsed.
    case interval
    /// A libvirt lifecycle event of a managed resource (debounced).
    case event
    /// A push webhook with a valid signature.
    case webhook
    /// `virtsync reconcile --now` (or `POST /reconcile`).
    case manual
    /// SIGHUP (`systemctl reload`).
    case signal
    /// A retry after a transient failure, with backoff.
    case retry
}

/// How a pass ended.
public enum PassOutcome: String, Codable, Sendable, CaseIterable {
    /// Nothing to do: the host matches the enforced commit.
    case converged
    /// Steps ran, all succeeded.
    case applied
    /// Something transient failed (host unreachable, a step failed, a fetch timed out); the pass
    /// is retried with backoff.
    case failed
    /// The newest commit is refused (invalid, unsigned, a mass delete, a history rewrite): it
    /// needs a new commit or a human. The last good commit was still enforced.
    case stalled
    /// Converged except for what must wait (a VM at its restart limit).
    case waiting
    /// The agent was asked to stop during the pass; steps in flight finished, others did not run.
    case interrupted
    /// The agent is suspended (`virtsync suspend`): nothing was read, planned or applied.
    case suspended
}

/// Broad classes of failure, which decide whether the loop retries.
public enum FailureClass: String, Codable, Sendable {
    /// Retry with exponential backoff and jitter.
    case transient
    /// Nothing to retry now; come back on the next trigger or interval.
    case waiting
    /// Needs a new commit or a human: never retried in a loop.
    case stalled
}

/// A resource that differed from the enforced commit without the commit changing: somebody or
/// something changed the host (a `virsh destroy`, a hand-edited definition, a crash).
public struct DriftItem: Codable, Sendable, Hashable {
    /// `domain web-1 on node-1`.
    public var resource: String
    /// The step that repairs it.
    public var action: String
    /// Why, in words (the step's reason).
    public var reason: String

    public init(resource: String, action: String, reason: String) {
        self.resource = resource
        self.action = action
        self.reason = reason
    }
}

/// One pass, as status and metrics show it.
public struct PassRecord: Codable, Sendable, Equatable {
    /// Increasing number of the pass since the agent started.
    public var id: Int
    public var trigger: PassTrigger
    /// More about the trigger: the event (`domain web-1 stopped`), the webhook's delivery.
    public var triggerDetail: String?
    public var startedAt: Date
    public var seconds: Double
    /// The newest commit seen on the ref (nil when the fetch failed before any was known).
    public var headCommit: String?
    /// The commit whose spec the pass enforced: the head, or the last good one when the head is
    /// refused.
    public var enforcedCommit: String?
    /// Steps planned, by action (`create`, `start`, …).
    public var planned: [String: Int]
    public var succeeded: Int
    public var failedSteps: Int
    public var skipped: Int
    public var drift: Int
    public var outcome: PassOutcome
    /// The failure or refusal, in words; nil on success.
    public var message: String?
    /// PascalCase reason of the outcome (`Converged`, `HostUnreachable`, `InvalidSpec`, …).
    public var reason: String

    public init(id: Int, trigger: PassTrigger, triggerDetail: String? = nil, startedAt: Date, seconds: Double = 0,
                headCommit: String? = nil, enforcedCommit: String? = nil, planned: [String: Int] = [:],
                succeeded: Int = 0, failedSteps: Int = 0, skipped: Int = 0, drift: Int = 0,
                outcome: PassOutcome, message: String? = nil, reason: String) {
        self.id = id
        self.trigger = trigger
        self.triggerDetail = triggerDetail
        self.startedAt = startedAt
        self.seconds = seconds
        self.headCommit = headCommit
        self.enforcedCommit = enforcedCommit
        self.planned = planned
        self.succeeded = succeeded
        self.failedSteps = failedSteps
        self.skipped = skipped
        self.drift = drift
        self.outcome = outcome
        self.message = message
        self.reason = reason
    }

    /// How the loop treats this outcome.
    public var failureClass: FailureClass? {
        switch outcome {
        case .converged, .applied, .interrupted, .suspended: return nil
        case .failed: return .transient
        case .waiting: return .waiting
        case .stalled: return .stalled
        }
    }

    /// The JSON `POST /reconcile?wait=1` answers with (sorted keys, ISO 8601 dates).
    public func json() throws -> Data { try JSONEncoder.records.encode(self) }

    /// Reads what `json()` wrote.
    public static func decode(_ bytes: [UInt8]) throws -> PassRecord {
        try JSONDecoder.records.decode(PassRecord.self, from: Data(bytes))
    }

    /// `3 create, 1 start` or `nothing`.
    public var plannedSummary: String {
        let parts = StepAction.allCases.compactMap { a in planned[a.rawValue].map { "\($0) \(a.rawValue)" } }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }
}
