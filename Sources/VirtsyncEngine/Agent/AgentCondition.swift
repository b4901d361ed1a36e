import Foundation

/// A condition in the style operators know from Kubernetes controllers: a type, whether it
/// holds, a PascalCase reason to switch on, a message to read, and since when.
public struct AgentCondition: Codable, Sendable, Equatable {
    /// The three conditions the agent publishes.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The host matches the newest commit (or the last good one, when nothing is refused).
        case ready = "Ready"
        /// A pass is running.
        case reconciling = "Reconciling"
        /// The newest commit is refused and the agent waits for a new one or a human.
        case stalled = "Stalled"
    }

    public var type: Kind
    public var status: Bool
    public var reason: String
    public var message: String
    /// When `status` last changed.
    public var since: Date

    public init(type: Kind, status: Bool, reason: String, message: String, since: Date) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.since = since
    }
}

extension Array where Element == AgentCondition {
    /// Sets a condition, keeping `since` when its status did not change.
    public mutating func set(_ type: AgentCondition.Kind, _ status: Bool, reason: String, message: String, at now: Date) {
        if let i = firstIndex(where: { $0.type == type }) {
            let since = self[i].status == status ? self[i].since : now
            self[i] = AgentCondition(type: type, status: status, reason: reason, message: message, since: since)
        } else {
            append(AgentCondition(type: type, status: status, reason: reason, message: message, since: now))
            sort { AgentCondition.Kind.allCases.firstIndex(of: $0.type) ?? 0 < AgentCondition.Kind.allCases.firstIndex(of: $1.type) ?? 0 }
        }
    }

    /// The condition of a type, if set.
    public subscript(_ type: AgentCondition.Kind) -> AgentCondition? { first { $0.type == type } }
}
