import Foundation

/// What was applied from one spec source (a repository and a path inside it): the last commit
/// applied completely, and the last one attempted. Signature verification starts after the
/// last applied commit, and a new commit that does not descend from it is a history rewrite.
public struct SourceRecord: Codable, Sendable, Equatable {
    /// The last commit whose plan was carried out without a failed step.
    public var lastApplied: String?
    public var lastAppliedSigner: String?
    public var lastAppliedAt: Date?
    /// The last commit an apply was started for, successful or not, and how it ended.
    public var lastAttempted: String?
    public var lastAttemptedAt: Date?
    public var lastError: String?

    public init() {}
}

/// The records of every source, in `<state dir>/sources.json`, written atomically.
public final class SourceRecordStore: @unchecked Sendable {
    // `lock` guards `records`.
    public let path: String
    private let lock = NSLock()
    private var records: [String: SourceRecord]

    /// Reads the store (an absent file is empty; a damaged one is refused, never overwritten).
    public init(stateDirectory: String) throws {
        path = stateDirectory + "/sources.json"
        if let data = FileManager.default.contents(atPath: path) {
            do {
                records = try JSONDecoder.records.decode(Stored.self, from: data).sources
            } catch {
                throw EngineError("\(path) is damaged (\(error)); move it aside to start over: the next apply then treats its commit as the first")
            }
        } else {
            records = [:]
        }
    }

    /// The key of a source: the repository URL (no credentials) and the path inside it.
    public static func key(repository: String, path: String) -> String {
        let inner = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        return repository + "#" + inner
    }

    public func record(_ key: String) -> SourceRecord? {
        lock.lock()
        defer { lock.unlock() }
        return records[key]
    }

    /// Changes one record and writes the file.
    public func update(_ key: String, _ change: (inout SourceRecord) -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        var record = records[key] ?? SourceRecord()
        change(&record)
        var next = records
        next[key] = record
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(path: path, data: try JSONEncoder.records.encode(Stored(sources: next)))
        records = next
    }

    private struct Stored: Codable {
        var version = 1
        var sources: [String: SourceRecord]
    }
}

extension JSONEncoder {
    static var records: JSONEncoder {
        let encoder = JSONEncoder.sorted
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var records: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
