/// One guest NUMA cell: the vCPUs and the memory it holds.
public struct NUMACell: Hashable, Codable, Sendable {
    public var cpus: CPUSet
    public var memory: ByteSize

    public init(cpus: CPUSet, memory: ByteSize) {
        self.cpus = cpus
        self.memory = memory
    }
}

/// How the guest's memory is bound to host NUMA nodes (libvirt's `<numatune><memory mode>`).
public enum NUMATuneMode: String, Codable, Sendable, CaseIterable {
    case strict, preferred, interleave, restrictive
}

/// The host NUMA nodes the guest's memory comes from.
public struct NUMATune: Hashable, Codable, Sendable, CustomStringConvertible {
    public var mode: NUMATuneMode
    public var nodeset: CPUSet

    public init(mode: NUMATuneMode, nodeset: CPUSet) {
        self.mode = mode
        self.nodeset = nodeset
    }

    public var description: String { "\(mode.rawValue) nodes \(nodeset)" }
}

/// Whether the guest's memory is backed by huge pages.
public enum HugePages: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Ordinary pages.
    case off
    /// Huge pages of the host's default size.
    case defaultSize
    /// Huge pages of this size (e.g. 2MiB, 1GiB).
    case size(ByteSize)

    public var description: String {
        switch self {
        case .off: return "off"
        case .defaultSize: return "on (host default size)"
        case .size(let size): return size.description
        }
    }
}

/// Guest NUMA cells, host NUMA binding and memory backing. Each field `nil` is left open by the
/// spec: not written, not compared, and an update keeps what exists.
public struct DomainMemoryTuning: Hashable, Codable, Sendable {
    /// Guest NUMA cells; their memory adds up to the VM's maximum memory.
    public var numaCells: [NUMACell]?
    public var numaTune: NUMATune?
    public var hugepages: HugePages?
    /// Lock the guest's memory in host RAM (never swapped).
    public var locked: Bool?

    public init(numaCells: [NUMACell]? = nil, numaTune: NUMATune? = nil, hugepages: HugePages? = nil, locked: Bool? = nil) {
        self.numaCells = numaCells
        self.numaTune = numaTune
        self.hugepages = hugepages
        self.locked = locked
    }

    /// `true` when the spec sets none of it.
    public var isEmpty: Bool { self == DomainMemoryTuning() }
}
