import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The agent is suspended (`virtsync suspend`): its passes apply nothing until `virtsync resume`.
///
/// Kept as a file in the agent's state directory, so that it survives restarts and the CLI can
/// suspend an agent that is not running. The file's presence is the suspension; resuming
/// removes it. HA is not suspended: fencing and takeovers keep running.
public struct AgentSuspension: Codable, Sendable, Equatable {
    /// Why, as the operator gave it (`--reason`).
    public var reason: String?
    /// When the agent was suspended.
    public var since: Date
    /// Who suspended it (`virtsync suspend as root on host-1, pid 1234`).
    public var by: String?

    public init(reason: String?, since: Date, by: String? = nil) {
        self.reason = reason
        self.since = since
        self.by = by
    }

    /// One line for humans: `since 2026-12-07T11:00:00Z: disk swap` (`by` left out).
    public var summary: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return "since \(formatter.string(from: since))" + (reason.map { ": \($0)" } ?? "")
    }

    /// The suspension recorded at `path`, nil when there is no file (not suspended).
    /// - Throws: `EngineError` when the file exists but cannot be read or decoded; the agent
    ///   then treats itself as suspended (a damaged file must not resume anything).
    public static func read(path: String) throws -> AgentSuspension? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) == 0 { throw EngineError("\(path) cannot be read") }
            return nil
        }
        do {
            return try JSONDecoder.records.decode(AgentSuspension.self, from: data)
        } catch {
            throw EngineError("\(path) cannot be read (\(error))")
        }
    }

    /// Writes the suspension atomically (readers see no file or the whole file).
    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(path: path, data: try encoder.encode(self))
    }

    /// Removes the file at `path`; true when there was one (the agent was suspended).
    /// - Throws: `EngineError` when it exists and cannot be removed.
    @discardableResult
    public static func remove(path: String) throws -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw EngineError("cannot remove \(path): \(String(cString: strerror(errno)))")
    }
}
