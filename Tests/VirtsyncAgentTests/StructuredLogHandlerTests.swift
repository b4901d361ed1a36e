import Foundation
import Glibc
import Logging
import Testing
@testable import VirtsyncAgent

/// Log lines on a terminal or a file, and on journald's stream (`JOURNAL_STREAM`).
@Suite("structured log lines")
struct StructuredLogHandlerTests {
    /// A pipe standing in for stderr: the sink writes to its write end, the test reads the other.
    final class Pipe {
        let read: Int32
        let write: Int32

        init() throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw POSIXError(.EIO) }
            read = fds[0]
            write = fds[1]
        }

        deinit {
            close(read)
            close(write)
        }

        /// `dev:ino` of the write end, as systemd would put it in `JOURNAL_STREAM`.
        var journalStream: String {
            var info = stat()
            fstat(write, &info)
            return "\(info.st_dev):\(info.st_ino)"
        }

        /// What was written so far (the pipe is small, the lines are few).
        func lines() -> [String] {
            _ = fcntl(read, F_SETFL, O_NONBLOCK)
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes += buffer[..<n]
            }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    static func logAll(_ sink: LogSink, format: StructuredLogHandler.Format = .logfmt) {
        var logger = Logger(label: "virtsync.test") { StructuredLogHandler(label: $0, level: .trace, format: format, sink: sink) }
        logger.logLevel = .trace
        logger.trace("t")
        logger.debug("d")
        logger.info("pass done", metadata: ["outcome": "converged"])
        logger.notice("n")
        logger.warning("w")
        logger.error("e")
        logger.critical("c")
    }

    @Test("on journald's own stream each line starts with its syslog priority and has no ts=")
    func journalLines() throws {
        let pipe = try Pipe()
        let sink = LogSink.descriptor(pipe.write, environment: ["JOURNAL_STREAM": pipe.journalStream])
        #expect(sink.isJournal)
        Self.logAll(sink)
        let lines = pipe.lines()
        #expect(lines.count == 7)
        #expect(lines.map { String($0.prefix(3)) } == ["<7>", "<7>", "<6>", "<5>", "<4>", "<3>", "<2>"])
        #expect(lines[2] == "<6>level=info label=virtsync.test msg=\"pass done\" outcome=converged")
        #expect(!lines.contains { $0.contains("ts=") })
    }

    @Test("JSON lines on journald's stream get the prefix too, and no ts key")
    func journalJSON() throws {
        let pipe = try Pipe()
        Self.logAll(LogSink.descriptor(pipe.write, environment: ["JOURNAL_STREAM": pipe.journalStream]), format: .json)
        let line = try #require(pipe.lines().dropFirst(2).first)
        #expect(line == #"<6>{"level":"info","label":"virtsync.test","msg":"pass done","outcome":"converged"}"#)
    }

    @Test("another stream's dev:ino, a malformed value or none leaves the usual lines", arguments: [
        nil, "", "1:2", "abc", "12", "1:2:3",
    ] as [String?])
    func notJournal(_ value: String?) throws {
        let pipe = try Pipe()
        let other = try Pipe()
        let environment = value.map { ["JOURNAL_STREAM": $0 == "1:2" ? other.journalStream : $0] } ?? [:]
        let sink = LogSink.descriptor(pipe.write, environment: environment)
        #expect(!sink.isJournal)
        Self.logAll(sink)
        let lines = pipe.lines()
        #expect(lines.count == 7)
        #expect(lines.allSatisfy { $0.hasPrefix("ts=") && $0.contains("Z level=") })
        #expect(lines[2].hasSuffix(" level=info label=virtsync.test msg=\"pass done\" outcome=converged"))
    }

    @Test("a regular file named by JOURNAL_STREAM counts as the journal too (the test is by device and inode only)")
    func fileStream() throws {
        let path = NSTemporaryDirectory() + "/virtsync-journal-\(UUID().uuidString)"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var info = stat()
        fstat(fd, &info)
        let sink = LogSink.descriptor(fd, environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"])
        Self.logAll(sink)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("<7>level=trace label=virtsync.test msg=t\n"))
    }
}
