/// Where an image volume's content comes from: a file on the host that runs virtsync or an
/// `http(s)://` URL, named by its SHA-256 digest (required: the digest is what makes a download
/// trustworthy, names the cached copy and tells whether a volume holds this image).
public struct ImageSource: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Where the bytes are read from.
    public enum Location: Hashable, Codable, Sendable, CustomStringConvertible {
        /// An `http://` or `https://` URL.
        case url(String)
        /// An absolute path on the machine that runs virtsync (the agent's host, or the CLI's).
        case file(String)

        public var description: String {
            switch self {
            case .url(let url): return url
            case .file(let path): return path
            }
        }
    }

    public var location: Location
    /// Lower-case hex SHA-256 of the file as it is downloaded or read (before any conversion).
    public var sha256: String
    /// The file's format; `nil` means the volume's own format. When it differs from the
    /// volume's, the image is converted (`qemu-img convert`) before it is uploaded.
    public var format: VolumeFormat?

    public init(location: Location, sha256: String, format: VolumeFormat? = nil) {
        self.location = location
        self.sha256 = sha256.lowercased()
        self.format = format
    }

    /// The first 12 hex digits of the digest, as plans show it.
    public var shortDigest: String { String(sha256.prefix(12)) }

    /// `https://…/x.qcow2 (sha256 0123456789ab)`.
    public var description: String { "\(location) (sha256 \(shortDigest))" }
}

/// A verified local copy of an image, ready to be streamed into a volume. Filled in by the
/// executor just before a volume is made from an image; never planned, compared or encoded.
public struct LocalImage: Hashable, Sendable {
    /// The file to upload, already in the volume's format.
    public var path: String
    /// Its length in bytes (what the upload streams).
    public var length: UInt64
    /// The disk size the image describes (a qcow2's virtual size; a raw file's length).
    public var virtualSize: UInt64

    public init(path: String, length: UInt64, virtualSize: UInt64) {
        self.path = path
        self.length = length
        self.virtualSize = virtualSize
    }
}
