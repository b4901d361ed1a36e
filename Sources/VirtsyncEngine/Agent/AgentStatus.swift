import Foundation

/// Everything `virtsync status` and `/status` show, kept in `<state>/agent-status.json`
/// (written atomically after every pass, so a crash leaves the previous one readable).
public struct AgentStatus: Codable, Sendable, Equatable {
    /// The commit last applied completely, and who signed it.
    public struct Commit: Codable, Sendable, Equatable {
        public var commit: String
        public var signer: String?
        public var at: Date?
        /// The error of an attempt that did not succeed.
        public var error: String?

        public init(commit: String, signer: String? = nil, at: Date? = nil, error: String? = nil) {
            self.commit = commit
            self.signer = signer
            self.at = at
            self.error = error
        }
    }

    /// The newest passes kept.
    public static let passesKept = 10

    public var formatVersion = 1
    /// This host's name in the spec.
    public var host: String
    /// The repository and path the agent follows.
    public var source: String
    public var pid: Int32
    public var startedAt: Date
    public var lastApplied: Commit?
    public var lastAttempted: Commit?
    public var conditions: [AgentCondition]
    /// What the last pass found changed on the host behind the spec's back.
    public var drift: [DriftItem]
    /// VMs at their restart limit, with why; they stay stopped until their spec changes or
    /// someone starts them.
    public var restartLimited: [String: String]
    /// Newest first.
    public var passes: [PassRecord]
    /// HA on this host, when the agent's configuration has an `ha` section.
    public var ha: HAStatus?
    /// Set while the agent is suspended (`virtsync suspend`): passes apply nothing.
    public var suspended: AgentSuspension?

    public init(host: String, source: String, pid: Int32, startedAt: Date) {
        self.host = host
        self.source = source
        self.pid = pid
        self.startedAt = startedAt
        self.conditions = []
        self.drift = []
        self.restartLimited = [:]
        self.passes = []
    }

    /// Adds a finished pass, keeping the newest `passesKept`.
    public mutating func record(_ pass: PassRecord) {
        passes.insert(pass, at: 0)
        if passes.count > Self.passesKept { passes.removeLast(passes.count - Self.passesKept) }
    }

    /// JSON as written to disk and served on `/status` (sorted keys, ISO 8601 dates).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    /// Reads a status file.
    /// - Throws: `EngineError` naming the file when it is missing or damaged.
    public static func read(path: String) throws -> AgentStatus {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError("no agent status at \(path): the agent has not finished a pass with this state directory")
        }
        do {
            return try decode(Array(data))
        } catch {
            throw EngineError("\(path) cannot be read (\(error))")
        }
    }

    /// Reads what `json()` wrote (the file, or `/status`).
    public static func decode(_ bytes: [UInt8]) throws -> AgentStatus {
        try JSONDecoder.records.decode(AgentStatus.self, from: Data(bytes))
    }

    /// Writes the status atomically, without fsync: it is rewritten after every pass, and after
    /// a power cut the next pass writes it again (an fsync per pass was 5% of an idle pass's CPU
    /// at 1,000 domains).
    public func write(path: String) throws {
        try AtomicFile.write(path: path, data: try json(), durable: false)
    }
}
