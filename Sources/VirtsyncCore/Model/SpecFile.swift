/// One spec file: its path relative to the spec directory and its bytes.
public struct SpecFile: Sendable, Hashable {
    /// Path relative to the spec directory, with `/` separators (e.g. `vms/web.yaml`).
    public var path: String
    /// The file's content.
    public var bytes: [UInt8]

    /// Wraps a file's path and content.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// Whether the loader parses this file as spec documents (`.yaml` or `.yml`); other files
    /// are only available to `userDataFile`, `metaDataFile` and `networkConfigFile`.
    public var isSpecDocument: Bool { path.hasSuffix(".yaml") || path.hasSuffix(".yml") }

    /// Why the content cannot be a spec document (a `.yaml` file that is not UTF-8 text), if so.
    public var contentProblem: String? {
        guard isSpecDocument else { return nil }
        if bytes.contains(0) || String(validating: bytes, as: UTF8.self) == nil {
            return "binary file: a spec file must be UTF-8 text"
        }
        return nil
    }

    /// Largest spec file accepted, in bytes (1 MiB), from a directory or a git tree alike.
    public static let maxSize = 1 << 20

    /// Most bytes a whole spec may hold (64 MiB), over all its files: a commit of thousands of
    /// 1 MiB files would otherwise be read into every agent's memory.
    public static let maxTotalSize = 64 << 20
    /// Most files a spec may hold.
    public static let maxFiles = 10_000

    /// The problem with a spec that would hold `files` files of `bytes` bytes in all.
    public static func totalProblem(files: Int, bytes: Int) -> String? {
        if files > maxFiles { return "the spec holds more than \(maxFiles) files; nothing after this one is read" }
        if bytes > maxTotalSize { return "the spec is larger than 64 MiB in all; nothing from this file on is read" }
        return nil
    }

    /// The problem with a file of `size` bytes, by its size alone.
    public static func sizeProblem(_ size: Int) -> String? {
        size > maxSize ? "file is larger than 1 MiB (\(size) bytes); spec files must be small text files" : nil
    }
}
