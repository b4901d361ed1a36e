/// The marker virtsync writes into a domain's `<metadata>` so that it only ever changes what it
/// created. Parsed back by the libvirt adapter.
public struct OwnershipMarker: Hashable, Codable, Sendable {
    /// XML namespace of the marker element.
    public static let namespace = "https://virtsync.dev/xmlns/domain/1"
    /// Element name and prefix used in `<metadata>`.
    public static let element = "managed"
    public static let prefix = "virtsync"

    /// Digest of the spec set that last wrote the domain.
    public var specDigest: String
    /// The git commit that last wrote it, when the spec came from git.
    public var commit: String?
    /// Digest of the domain's raw XML fragments (`ExtraXML.digest`), to detect changes to them.
    public var extraDigest: String
    /// Whether an update that needs a restart is pending (written when a change went to the
    /// persistent definition only).
    /// The host the VM was moved away from for maintenance; it returns there when the mark is
    /// removed. Travels with the domain's definition.
    public var evacuatedFrom: String?

    public init(specDigest: String, commit: String? = nil, extraDigest: String = "", evacuatedFrom: String? = nil) {
        self.evacuatedFrom = evacuatedFrom
        self.specDigest = specDigest
        self.commit = commit
        self.extraDigest = extraDigest
    }
}
