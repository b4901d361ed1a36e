import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import VirtsyncEngine

/// Downloads one URL into a partial file, resuming what an earlier attempt (or an earlier
/// pass, or an earlier process) left there, and returns the SHA-256 of the whole file.
///
/// A server that ignores `Range` (status 200) gets the download restarted from the first
/// byte; `416` (the partial file is not a prefix of the resource) restarts it too. Network
/// failures and 5xx answers are retried with growing pauses, each retry resuming; other 4xx
/// answers fail at once (the URL is wrong, not the network).
struct ImageDownload: Sendable {
    var url: String
    var partialPath: String
    var subject: String
    var retryDelays: [Duration]
    var maxBytes: UInt64
    var progress: TransferProgressSink?

    /// Downloads and returns the file's SHA-256 (lower-case hex) and length.
    func run() async throws -> (digest: String, length: UInt64) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 5, allowCycles: false))
        configuration.timeout.connect = .seconds(15)
        configuration.timeout.read = .seconds(60)
        configuration.decompression = .disabled
        // A refused connection fails the attempt at once; the attempts above pace the retries
        // (AsyncHTTPClient would otherwise retry it silently until the connect timeout).
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await attempts(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func attempts(_ client: HTTPClient) async throws -> (digest: String, length: UInt64) {
        var attempt = 0
        while true {
            do {
                return try await once(client)
            } catch let failure as Failure {
                guard failure.retryable, attempt < retryDelays.count else {
                    throw ImageError(.unreachable, "cannot download \(url): \(failure.message)\(attempt > 0 ? " (after \(attempt + 1) attempts)" : "")")
                }
                try await Task.sleep(for: retryDelays[attempt])
                attempt += 1
            }
        }
    }

    /// Why one attempt failed, and whether another may succeed.
    struct Failure: Error {
        var message: String
        var retryable: Bool
    }

    private func once(_ client: HTTPClient) async throws -> (digest: String, length: UInt64) {
        var hasher = SHA256()
        var offset = try hashExisting(&hasher)
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "virtsync")
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .hours(12))
        } catch {
            throw Failure(message: Self.describe(error), retryable: true)
        }
        let status = response.status.code
        switch status {
        case 206 where offset > 0:
            guard let range = response.headers.first(name: "Content-Range"), range.hasPrefix("bytes \(offset)-") else {
                try truncate()
                throw Failure(message: "the server answered a resumed download with another range; starting again", retryable: true)
            }
        case 200:
            if offset > 0 {
                // The server ignores Range: start again from the first byte.
                try truncate()
                hasher = SHA256()
                offset = 0
            }
        case 416:
            try truncate()
            throw Failure(message: "the partial download is not a prefix of the file; starting again", retryable: true)
        case 500...599, 408, 429:
            throw Failure(message: "HTTP \(status) \(response.status.reasonPhrase)", retryable: true)
        default:
            throw Failure(message: "HTTP \(status) \(response.status.reasonPhrase)", retryable: false)
        }
        var total: UInt64?
        if let length = response.headers.first(name: "Content-Length").flatMap(UInt64.init) { total = offset + length }
        if let total, total > maxBytes {
            throw Failure(message: "the file is \(total) bytes, more than the limit of \(maxBytes)", retryable: false)
        }
        guard let handle = FileHandle(forWritingAtPath: partialPath) else {
            throw ImageError(.other, "cannot write \(partialPath)")
        }
        defer { try? handle.close() }
        _ = try handle.seekToEnd()
        var done = offset
        var reported = ContinuousClock.now
        progress?(TransferProgress(phase: .download, subject: subject, done: done, total: total))
        do {
            for try await buffer in response.body {
                let data = Data(buffer.readableBytesView)
                try handle.write(contentsOf: data)
                hasher.update(data: data)
                done += UInt64(data.count)
                if done > maxBytes {
                    throw Failure(message: "the file is larger than the limit of \(maxBytes) bytes", retryable: false)
                }
                if let progress, ContinuousClock.now - reported > .milliseconds(200) {
                    reported = ContinuousClock.now
                    progress(TransferProgress(phase: .download, subject: subject, done: done, total: total))
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            // What arrived is kept: the next attempt resumes from it (and verifies it all).
            try? handle.synchronize()
            throw Failure(message: "the download broke off after \(done) bytes (\(Self.describe(error)))", retryable: true)
        }
        try handle.synchronize()
        if let total, done != total {
            throw Failure(message: "the download ended after \(done) of \(total) bytes", retryable: true)
        }
        progress?(TransferProgress(phase: .download, subject: subject, done: done, total: total ?? done))
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), done)
    }

    /// Feeds what an earlier attempt left into `hasher`; creates the file when there is none.
    private func hashExisting(_ hasher: inout SHA256) throws -> UInt64 {
        if !FileManager.default.fileExists(atPath: partialPath) {
            guard FileManager.default.createFile(atPath: partialPath, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ImageError(.other, "cannot create \(partialPath)")
            }
            return 0
        }
        guard let handle = FileHandle(forReadingAtPath: partialPath) else { throw ImageError(.other, "cannot read \(partialPath)") }
        defer { try? handle.close() }
        var length: UInt64 = 0
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            length += UInt64(chunk.count)
        }
        return length
    }

    private func truncate() throws {
        guard let handle = FileHandle(forWritingAtPath: partialPath) else { throw ImageError(.other, "cannot write \(partialPath)") }
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .readTimeout { return "no data for 60 seconds" }
            if error == .connectTimeout { return "no connection within 15 seconds" }
            if error == .remoteConnectionClosed { return "the server closed the connection" }
            return "\(error)"
        }
        return "\(error)"
    }
}
