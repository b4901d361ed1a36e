import Crypto
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The `ImageStore` of a machine: verified copies of OS images in a directory, named by their
/// SHA-256, shared by every virtsync on the machine (the CLI and the agent).
///
/// Layout of the directory (created 0700):
/// - `sha256/<hex>`: a file whose SHA-256 is `<hex>`: renamed into place only after the digest
///   was checked, so its presence is the proof;
/// - `sha256/<hex>.partial`: a download in progress or broken off, resumed by the next attempt
///   and trusted only once the whole file's digest matches;
/// - `sha256/<hex>.<format>`: the verified image converted to another format (`qemu-img`);
/// - `sha256/<hex>.lock`: held (`flock`) while a process fetches or converts that image.
///
/// Within one process, concurrent requests for the same image share one fetch. Nothing is
/// evicted: remove files by hand (or point the cache at a larger disk) when it grows.
public actor ImageCache: ImageStore {
    /// The cache directory.
    public nonisolated let directory: String
    /// Pauses between download attempts (one more attempt than pauses).
    let retryDelays: [Duration]
    /// The largest image accepted, in bytes.
    let maxBytes: UInt64
    private var inFlight: [String: Task<LocalImage, any Error>] = [:]

    /// - Parameters:
    ///   - directory: where the images are kept.
    ///   - retryDelays: pauses between download attempts (default 1 s, 4 s, 15 s).
    ///   - maxBytes: the largest image accepted (default 256 GiB).
    public init(directory: String, retryDelays: [Duration] = [.seconds(1), .seconds(4), .seconds(15)],
                maxBytes: UInt64 = 256 << 30) {
        self.directory = directory
        self.retryDelays = retryDelays
        self.maxBytes = maxBytes
    }

    /// The default directory: `/var/cache/virtsync/images` for root, else
    /// `$XDG_CACHE_HOME/virtsync/images` (or `~/.cache/virtsync/images`).
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if getuid() == 0 { return "/var/cache/virtsync/images" }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/virtsync/images" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/virtsync/images"
    }

    public func localImage(_ image: ImageSource, as format: VolumeFormat, for subject: String,
                           progress: TransferProgressSink?) async throws -> LocalImage {
        let key = "\(image.sha256)/\(format.rawValue)/\(image.format?.rawValue ?? "-")"
        if let running = inFlight[key] { return try await running.value }
        let task = Task { try await self.fetch(image, as: format, subject: subject, progress: progress) }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await task.value
    }

    private func fetch(_ image: ImageSource, as format: VolumeFormat, subject: String,
                       progress: TransferProgressSink?) async throws -> LocalImage {
        let folder = directory + "/sha256"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ImageError(.other, "cannot create the image cache \(folder): \(error.localizedDescription)")
        }
        let lock = try await FileLock.acquire(folder + "/\(image.sha256).lock")
        defer { lock.release() }
        guard let tool = QemuImg.find() else {
            throw ImageError(.other, "qemu-img is not installed (Debian: qemu-utils); it checks and converts images")
        }
        let qemuImg = QemuImg(tool: tool)
        let verified = folder + "/\(image.sha256)"
        if !FileManager.default.fileExists(atPath: verified) {
            try await obtain(image, into: verified, subject: subject, progress: progress)
        }
        // The file's format as the spec declares it (by default the volume's), checked rather
        // than trusted: a raw volume filled with a qcow2 file would be a disk of garbage.
        let declared = image.format ?? format
        let probed = try await qemuImg.info(verified, format: nil)
        guard probed.format == declared.rawValue else {
            throw ImageError(.refused, "the image \(image.location) is \(probed.format), the spec says \(declared.rawValue)"
                                 + (image.format == nil ? " (set image.format: \(probed.format) to convert it)" : ""))
        }
        // The probe read the header as that format: its backing and data file are the image's.
        let info = probed
        if let backing = info.backingFile {
            throw ImageError(.refused, "the image \(image.location) names a backing file (\(backing)); virtsync uses self-contained images only")
        }
        if let data = info.dataFile {
            throw ImageError(.refused, "the image \(image.location) names an external data file (\(data)); virtsync uses self-contained images only")
        }
        var path = verified
        var virtualSize = info.virtualSize
        if declared != format {
            path = verified + ".\(format.rawValue)"
            if !FileManager.default.fileExists(atPath: path) {
                progress?(TransferProgress(phase: .convert, subject: subject, done: 0, total: nil))
                let partial = path + ".partial"
                try? FileManager.default.removeItem(atPath: partial)
                try await qemuImg.convert(verified, from: declared.rawValue, to: format.rawValue, destination: partial)
                try FileSystem.syncAndRename(partial, to: path)
            }
            virtualSize = try await qemuImg.info(path, format: format.rawValue).virtualSize
        }
        let length = try FileSystem.size(path)
        return LocalImage(path: path, length: length, virtualSize: format == .raw ? length : virtualSize)
    }

    /// Downloads or copies the image to `destination`, verified.
    private func obtain(_ image: ImageSource, into destination: String, subject: String, progress: TransferProgressSink?) async throws {
        let partial = destination + ".partial"
        let result: (digest: String, length: UInt64)
        switch image.location {
        case .url(let url):
            result = try await ImageDownload(url: url, partialPath: partial, subject: subject, retryDelays: retryDelays,
                                             maxBytes: maxBytes, progress: progress).run()
        case .file(let source):
            result = try await FileSystem.copyHashing(source, to: partial, subject: subject, maxBytes: maxBytes, progress: progress)
        }
        guard result.digest == image.sha256 else {
            // Never resumed from: a wrong file is fetched again from its first byte.
            try? FileManager.default.removeItem(atPath: partial)
            throw ImageError(.checksum, "the image \(image.location) has sha256 \(result.digest), the spec says \(image.sha256); nothing was made from it")
        }
        progress?(TransferProgress(phase: .verify, subject: subject, done: result.length, total: result.length))
        try FileSystem.syncAndRename(partial, to: destination)
    }
}
