import VirtsyncCore

/// One moment of a long transfer (an image being downloaded, converted or streamed into a
/// volume), for a progress line on a terminal or a log line.
public struct TransferProgress: Sendable, Equatable {
    /// What is happening.
    public enum Phase: String, Sendable {
        case download, verify, convert, upload
    }

    public var phase: Phase
    /// What it is for: the volume (`pool/name`) or the image's location.
    public var subject: String
    /// Bytes done so far.
    public var done: UInt64
    /// Bytes in all, when known.
    public var total: UInt64?

    public init(phase: Phase, subject: String, done: UInt64, total: UInt64?) {
        self.phase = phase
        self.subject = subject
        self.done = done
        self.total = total
    }
}

/// Receives transfer progress; called often (throttle before printing).
public typealias TransferProgressSink = @Sendable (TransferProgress) -> Void

/// Gives verified local copies of OS images (the `image` source of a volume).
///
/// Contract: `localImage` returns a file whose SHA-256 was checked against `image.sha256` (the
/// digest of the downloaded or read file, before conversion), in `format`, that nothing will
/// change while the caller streams it. A copy is made whole or not at all: an interrupted
/// download is never returned, and a later call resumes or restarts it.
public protocol ImageStore: Sendable {
    /// A verified local copy of `image`, converted to `format` when the image is in another.
    /// - Throws: `ImageError` when the image cannot be read, has another digest than the spec
    ///   says, is not in the format the spec says, or cannot be converted.
    func localImage(_ image: ImageSource, as format: VolumeFormat, for subject: String,
                    progress: TransferProgressSink?) async throws -> LocalImage
}

/// Why an image could not be given.
public struct ImageError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Broad classes callers switch on.
    public enum Code: String, Sendable {
        /// The URL or file could not be read (after retries).
        case unreachable
        /// The bytes are not the ones the spec names (their SHA-256 differs).
        case checksum
        /// The file is not an image virtsync will use (wrong format, a backing file, too large).
        case refused
        /// Anything else (the cache directory, qemu-img).
        case other
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The progress sink of the step being carried out, for adapters that stream (the executor
/// sets it around each step; a task local, so no port needs another parameter).
///
/// The task local holds a class reference, not the closure: Swift 6.3.1's optimized builds
/// crashed in `swift_task_localValuePush` binding an optional closure (two words) to a task
/// local (every release `apply` crashed at its first step); a reference-sized value binds fine.
public enum TransferProgressContext {
    /// The sink, boxed.
    public final class Box: Sendable {
        public let sink: TransferProgressSink
        public init(_ sink: @escaping TransferProgressSink) { self.sink = sink }
    }

    @TaskLocal static var box: Box?

    /// The sink of the step being carried out, if any.
    public static var sink: TransferProgressSink? { box?.sink }

    /// Runs `operation` with `sink` as the current sink.
    public static func with<T: Sendable>(_ sink: TransferProgressSink?, _ operation: () async throws -> T) async rethrows -> T {
        try await $box.withValue(sink.map(Box.init)) { try await operation() }
    }
}
