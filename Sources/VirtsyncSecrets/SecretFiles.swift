import Foundation
import VirtsyncCore

/// Checks and reads the files secrets are kept in: regular files owned by root (or the user
/// virtsync runs as), with no permission for group or others, at most `maxSize` bytes.
enum SecretFiles {
    /// Largest secret accepted (1 MiB, a cloud-init file's practical limit).
    static let maxSize = 1 << 20

    /// The canonical path (symlinks resolved), or nil when it does not exist.
    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Why the file at `path` must not be trusted with a secret, if so.
    static func problem(_ path: String, what: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? "\(what) \(path) does not exist" : "\(what) \(path) cannot be read (\(String(cString: strerror(errno))))"
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return "\(what) \(path) is not a regular file" }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            return "\(what) \(path) is owned by uid \(info.st_uid), not by root: chown root \(path)"
        }
        let mode = info.st_mode & 0o777
        if mode & 0o007 != 0 {
            return "\(what) \(path) is readable or writable by everyone (mode \(String(mode, radix: 8))): chmod 600 \(path)"
        }
        if mode & 0o070 != 0 {
            return "\(what) \(path) is open to its group (mode \(String(mode, radix: 8))): chmod 600 \(path)"
        }
        guard info.st_size <= off_t(maxSize) else { return "\(what) \(path) is larger than 1 MiB" }
        return nil
    }

    /// The file's bytes after `problem` found nothing wrong.
    static func read(_ path: String, what: String) -> Result<[UInt8], SecretProblem> {
        if let problem = problem(path, what: what) { return .failure(SecretProblem(problem)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(SecretProblem("\(what) \(path) cannot be read"))
        }
        guard data.count <= maxSize else { return .failure(SecretProblem("\(what) \(path) is larger than 1 MiB")) }
        return .success(Array(data))
    }
}
