import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Log lines with stable keys, one per event, on stderr (journald keeps them under systemd).
///
/// When stderr is journald's own stream (see `LogSink.isJournal`), each line starts with its
/// syslog priority (`<6>` for info) and has no `ts=`: journald keeps its own time and sorts
/// lines by priority (`journalctl -p warning`).
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
        // journald stamps each line itself, so a line for it carries no `ts=`.
        var fields: [(String, String)] = sink.isJournal ? [] : [("ts", Self.timestamp(Date()))]
        fields += [("level", event.level.rawValue), ("label", label), ("msg", event.message.description)]
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { merged["error"] = "\(error)" }
        for key in merged.keys.sorted() {
            if let value = merged[key] { fields.append((key, "\(value)")) }
        }
        let line = format == .json ? Self.json(fields) : Self.logfmt(fields)
        sink.write(sink.isJournal ? "<\(Self.syslogPriority(event.level))>" + line : line)
    }

    /// The syslog priority journald reads from a `<N>` line prefix (sd-daemon.h's `SD_ERR` and
    /// friends); swift-log's trace has no level of its own below debug.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
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
    /// Whether the descriptor is journald's stream: lines then carry a `<N>` priority prefix
    /// and no time stamp.
    public let isJournal: Bool

    private init(fd: Int32?, isJournal: Bool) {
        self.fd = fd
        self.isJournal = isJournal
    }

    /// Standard error (journald's stream when `JOURNAL_STREAM` names it).
    public static let standardError = descriptor(2)

    /// Writes to `fd`, which is journald's stream when `JOURNAL_STREAM` in `environment` names
    /// its device and inode (the process environment unless a test injects another).
    public static func descriptor(_ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> LogSink {
        LogSink(fd: fd, isJournal: isJournalStream(fd, value: environment["JOURNAL_STREAM"]))
    }

    /// Keeps lines in memory (tests).
    public static func memory(journal: Bool = false) -> LogSink { LogSink(fd: nil, isJournal: journal) }

    /// Whether `value` (`JOURNAL_STREAM`, `<device>:<inode>` in decimal) is the device and inode
    /// of `fd`. systemd sets it for a service whose output goes to the journal; comparing with
    /// fstat(2) tells whether this descriptor is still that stream (a child whose stderr was
    /// redirected inherits the variable but not the stream).
    static func isJournalStream(_ fd: Int32, value: String?) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

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
