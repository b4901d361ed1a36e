/// A raw XML element placed at a path (relative to the document's root, `devices/rng`).
public struct HatchLeaf: Hashable, Codable, Sendable {
    public var path: String
    public var node: HatchNode

    public init(path: String, node: HatchNode) {
        self.path = path
        self.node = node
    }
}
