/// The raw XML of a resource as observed: the unowned elements of its live definition, and the
/// paths virtsync recorded as written by its escape hatch (a domain's marker; the inventory for
/// networks and pools).
public struct ObservedHatch: Hashable, Codable, Sendable {
    /// Paths virtsync's last write put raw XML at. Raw XML at a recorded path that the spec no
    /// longer has is removed.
    public var recorded: [String]
    /// Unowned elements of the definition: for a domain only under recorded paths, for a
    /// network or pool all of them (`complete`).
    public var live: [HatchLeaf]
    /// `live` lists every unowned element, not only those under recorded paths.
    public var complete: Bool

    public init(recorded: [String] = [], live: [HatchLeaf] = [], complete: Bool = false) {
        self.recorded = recorded
        self.live = live
        self.complete = complete
    }

    /// The observed hatch of a definition written from `leaves` (the in-memory hypervisor, the
    /// assumed state of an offline plan); `nil` without leaves, so that the observed state (and
    /// its fingerprint) of a resource without raw XML is what it always was.
    public static func written(_ leaves: [HatchLeaf], complete: Bool = false) -> ObservedHatch? {
        leaves.isEmpty ? nil : ObservedHatch(recorded: Hatch.paths(of: leaves), live: leaves, complete: complete)
    }
}
