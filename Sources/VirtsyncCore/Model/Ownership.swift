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
    /// The host the VM was moved away from for maintenance; it returns there when the mark is
    /// removed. Travels with the domain's definition.
    public var evacuatedFrom: String?
    /// The spec source that owns the domain (`Settings.owner`, or derived from where the spec
    /// comes from). `nil` in a marker written by a virtsync without owners: such a domain is
    /// claimed explicitly, never silently.
    public var owner: String?
    /// The HA epoch this copy was started with (the owner record's epoch in etcd); nil for a VM
    /// HA never started. A copy whose epoch is older than the record's is stopped, never run.
    /// Kept when the definition is updated: only HA writes it.
    public var haEpoch: Int64?
    /// The VNC/SPICE password the definition was last written with, as `NAME:DIGEST`
    /// (`SecretMaterial.markerValue`): libvirt never shows the password itself.
    public var graphicsPassword: String?

    public init(specDigest: String, commit: String? = nil, extraDigest: String = "", evacuatedFrom: String? = nil,
                owner: String? = nil, haEpoch: Int64? = nil, graphicsPassword: String? = nil) {
        self.graphicsPassword = graphicsPassword
        self.haEpoch = haEpoch
        self.evacuatedFrom = evacuatedFrom
        self.specDigest = specDigest
        self.commit = commit
        self.extraDigest = extraDigest
        self.owner = owner
    }
}

/// Who holds a resource found on a host, seen from one spec source.
public enum Claim: Hashable, Sendable {
    /// This spec source owns it: it may change and remove it.
    case ours
    /// Written by a virtsync that recorded no owner: left alone until a spec claims it
    /// (`adopt: true`, or `--claim-unowned`).
    case unowned
    /// Another spec source owns it: reported, never touched.
    case other(String)
    /// virtsync did not create it: never touched unless a spec adopts it.
    case unmanaged

    /// The claim of a resource that virtsync recorded (`managed`) with `recordedOwner`, seen by
    /// the spec source `owner`. An owner of `nil` on both sides is the same owner (the pure
    /// core's tests, and the identity of specs before owners existed).
    public static func of(managed: Bool, recordedOwner: String?, by owner: String?) -> Claim {
        guard managed else { return .unmanaged }
        if recordedOwner == owner { return .ours }
        guard let recordedOwner else { return .unowned }
        return .other(recordedOwner)
    }

    /// `true` for `.ours`.
    public var isOurs: Bool { self == .ours }
}

extension ObservedDomain {
    /// Who holds this domain, seen from `owner`.
    public func claim(by owner: String?) -> Claim {
        Claim.of(managed: marker != nil, recordedOwner: marker?.owner, by: owner)
    }
}

extension ObservedNetwork {
    /// Who holds this network, seen from `owner`.
    public func claim(by owner: String?) -> Claim { Claim.of(managed: managed, recordedOwner: self.owner, by: owner) }
}

extension ObservedPool {
    /// Who holds this pool, seen from `owner`.
    public func claim(by owner: String?) -> Claim { Claim.of(managed: managed, recordedOwner: self.owner, by: owner) }
}

extension ObservedVolume {
    /// Who holds this volume, seen from `owner`.
    public func claim(by owner: String?) -> Claim { Claim.of(managed: managed, recordedOwner: self.owner, by: owner) }
}
