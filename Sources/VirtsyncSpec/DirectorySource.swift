import Foundation
import VirtsyncCore

/// Reads a spec from a directory of the local file system (recursively), for `plan` and
/// `validate` without git. Hidden files and directories (names starting with `.`) are skipped.
///
/// Refused, each with an error: a missing root, a symbolic link that resolves outside the root
/// (inside is fine), a `.yaml`/`.yml` file that is not UTF-8 text ("binary file"), any file
/// larger than `maxFileSize`, and special files (FIFOs, sockets, devices), which are never
/// opened: skipping one would read a smaller spec, which with pruning deletes. A single `.yaml`
/// file may be given instead of a directory: it is a one-file spec.
public struct DirectorySource: Sendable {
    /// Largest file accepted, in bytes (1 MiB).
    public static var maxFileSize: Int { SpecFile.maxSize }

    /// The directory (or single spec file) to read.
    public let root: String

    /// A source reading `root`.
    public init(root: String) {
        self.root = root
    }

    /// Every regular file under the root, with paths relative to it (`/`-separated, sorted),
    /// and the problems found. A spec with no `.yaml`/`.yml` file is an error ("no spec files").
    public func files() -> ([SpecFile], Diagnostics) {
        var walk = Walk(rootLabel: root)
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root, isDirectory: &isDirectory), let realRoot = Self.realPath(root) else {
            walk.error(root, "spec directory does not exist")
            return ([], Diagnostics(walk.diagnostics))
        }
        if !isDirectory.boolValue {
            let name = (root as NSString).lastPathComponent
            guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else {
                walk.error(root, "not a directory: give the spec directory, or a single .yaml file")
                return ([], Diagnostics(walk.diagnostics))
            }
            walk.realRoot = (realRoot as NSString).deletingLastPathComponent
            var stats = stat()
            guard stat(realRoot, &stats) == 0, stats.st_mode & S_IFMT == S_IFREG else {
                walk.error(name, Walk.specialFileProblem(stats.st_mode))
                return ([], Diagnostics(walk.diagnostics))
            }
            walk.readFile(realPath: realRoot, relative: name, size: Int(stats.st_size))
        } else {
            walk.realRoot = realRoot
            walk.visitedDirectories.insert(realRoot)
            walk.readDirectory(realPath: realRoot, relative: "")
        }
        if !walk.files.contains(where: \.isSpecDocument) && !walk.diagnostics.contains(where: { $0.severity == .error }) {
            walk.error(".", "no spec files: \(root) holds no .yaml or .yml file")
        }
        return (walk.files.sorted { $0.path < $1.path }, Diagnostics(walk.diagnostics))
    }

    /// The problem with a file of `size` bytes, by its size alone (shared with git trees).
    public static func sizeProblem(_ size: Int) -> String? { SpecFile.sizeProblem(size) }

    /// The canonical absolute path, symbolic links resolved; nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The state of one directory walk.
private struct Walk {
    let rootLabel: String
    var realRoot = ""
    var files: [SpecFile] = []
    /// Bytes read so far, and whether the whole-spec limit was hit (then nothing more is read).
    var totalBytes = 0
    var overTotal = false
    var diagnostics: [Diagnostic] = []
    /// Real paths of directories already read: a link to one of them is not followed again.
    var visitedDirectories: Set<String> = []

    init(rootLabel: String) {
        self.rootLabel = rootLabel
    }

    mutating func error(_ file: String, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file), message))
    }

    /// Why a file of `mode` is refused: it is not a regular file or directory.
    static func specialFileProblem(_ mode: mode_t) -> String {
        let kind = switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "not a regular file"
        }
        return "\(kind): a spec directory holds only regular files, directories and symbolic links to them"
    }

    private func isInsideRoot(_ real: String) -> Bool {
        real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/")
    }

    mutating func readDirectory(realPath directory: String, relative: String) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            self.error(relative.isEmpty ? "." : relative, "cannot read the directory: \(error.localizedDescription)")
            return
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let child = relative.isEmpty ? name : relative + "/" + name
            let fullPath = directory + "/" + name
            guard let real = DirectorySource.realPath(fullPath) else {
                self.error(child, "dangling symbolic link")
                continue
            }
            guard isInsideRoot(real) else {
                self.error(child, "symbolic link resolves outside the spec directory (to \(real))")
                continue
            }
            var stats = stat()
            guard stat(real, &stats) == 0 else {
                self.error(child, "cannot read the file's status")
                continue
            }
            switch stats.st_mode & S_IFMT {
            case S_IFDIR:
                if visitedDirectories.insert(real).inserted { readDirectory(realPath: real, relative: child) }
            case S_IFREG:
                readFile(realPath: real, relative: child, size: Int(stats.st_size))
            default:
                self.error(child, Self.specialFileProblem(stats.st_mode))
            }
        }
    }

    mutating func readFile(realPath: String, relative: String, size knownSize: Int? = nil) {
        let size = knownSize ?? ((try? FileManager.default.attributesOfItem(atPath: realPath)[.size] as? Int) ?? 0)
        if let problem = DirectorySource.sizeProblem(size) {
            self.error(relative, problem)
            return
        }
        guard !overTotal else { return }
        if let problem = SpecFile.totalProblem(files: files.count + 1, bytes: totalBytes + size) {
            self.error(relative, problem)
            overTotal = true
            return
        }
        totalBytes += size
        guard let data = FileManager.default.contents(atPath: realPath) else {
            self.error(relative, "cannot read the file")
            return
        }
        let file = SpecFile(path: relative, bytes: [UInt8](data))
        if let problem = file.contentProblem {
            self.error(relative, problem)
            return
        }
        files.append(file)
    }
}
