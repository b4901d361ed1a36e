/// The rules of one document kind, indexed by path relative to the root (`devices/disk`).
struct HatchTable: Sendable {
    let root: String
    private let elements: [String: [HatchOwnership.Rule]]
    private let attributes: [String: [HatchOwnership.Rule]]
    private let containers: Set<String>

    /// The table of each document kind, built once.
    static let domain = HatchTable(.domain)
    static let network = HatchTable(.network)
    static let pool = HatchTable(.pool)

    static func of(_ document: HatchOwnership.Document) -> HatchTable {
        switch document {
        case .domain: return domain
        case .network: return network
        case .pool: return pool
        }
    }

    private init(_ document: HatchOwnership.Document) {
        root = document.rawValue
        var elements: [String: [HatchOwnership.Rule]] = [:]
        var attributes: [String: [HatchOwnership.Rule]] = [:]
        var containers: Set<String> = []
        for rule in HatchOwnership.rules(document) {
            var parts = rule.path.split(separator: "/").map(String.init)
            if parts.first == document.rawValue { parts.removeFirst() }
            let relative = parts.joined(separator: "/")
            if rule.attribute != nil {
                attributes[relative, default: []].append(rule)
                containers.insert(relative)
            } else {
                elements[relative, default: []].append(rule)
            }
            // Every ancestor of an owned part is a container.
            for end in parts.indices.dropLast() { containers.insert(parts[...end].joined(separator: "/")) }
        }
        self.elements = elements
        self.attributes = attributes
        self.containers = containers
    }

    /// The field owning the element at `path` (relative to the root) as a whole, if any.
    func owner(path: String, attribute value: (String) -> String?) -> String? {
        for rule in elements[path] ?? [] {
            let holds = rule.conditions.allSatisfy { condition in
                (value(condition.attribute) ?? condition.defaultValue).map(condition.values.contains) ?? false
            }
            if holds { return rule.field }
        }
        return nil
    }

    /// Whether the element at `path` holds owned parts (and is not owned as a whole).
    func isContainer(_ path: String) -> Bool { containers.contains(path) }

    /// The owned attributes of the container at `path`, with their fields.
    func ownedAttributes(_ path: String) -> [(name: String, field: String)] {
        (attributes[path] ?? []).compactMap { rule in rule.attribute.map { ($0, rule.field) } }
    }
}
