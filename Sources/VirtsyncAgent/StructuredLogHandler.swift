import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Log lines with stable keys, one per event, on stderr (journald keeps them under systemd).
///
/// `logfmt`: `ts=2026-11-21T10:00:00.123Z level=info label=virtsync.agent msg="pass done" outcome=converged`;
/// `json`: the same keys in one JSON object per line. Metadata keys are lower_snake and sorted.
public struct StructuredLogHandler: LogHandler {
    /// Line formats.
    public enum Format: String, Sendable {
        case logfmt, json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: Format
    private let sink: LogSink

    /// A handler for `label` writing to `sink` (stderr by default).
    public init(label: String, level: Logger.Level, format: Format, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp(Date())), ("level", event.level.rawValue), ("label", label), ("msg", event.message.description),
        ]
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { merged["error"] = "\(error)" }
        for key in merged.keys.sorted() {
            if let value = merged[key] { fields.append((key, "\(value)")) }
        }
        sink.write(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    /// `key=value` pairs; values with spaces, quotes, `=` or nothing are quoted and escaped.
    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let plain = !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.isNewline || $0 == "\t" })
            return plain ? "\(key)=\(value)" : "\(key)=\"\(escape(value))\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\(escape($0.0))\":\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    private static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func timestamp(_: Date) -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var tm = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, time.tv_nsec / 1_000_000)
    }
}

/// Where log lines go: one `write` per line, so lines from several threads never interleave.
public final class LogSink: @unchecked Sendable {
    // `lock` guards `lines` (the in-memory sink of tests).
    private let lock = NSLock()
    private let fd: Int32?
    private var lines: [String] = []

    private init(fd: Int32?) { self.fd = fd }

    /// Standard error.
    public static let standardError = LogSink(fd: 2)

    /// Keeps lines in memory (tests).
    public static func memory() -> LogSink { LogSink(fd: nil) }

    /// Lines kept by a memory sink.
    public var captured: [String] { lock.withLock { lines } }

    func write(_ line: String) {
        guard let fd else {
            lock.withLock { lines.append(line) }
            return
        }
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
