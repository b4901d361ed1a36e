import VirtsyncCore
import Yams

/// Turns the YAML documents of one file into spec values, reporting every local problem
/// (unknown keys, types, units, formats). Checks across documents come later.
struct DocumentDecoder {
    /// The only API version this loader reads.
    static let apiVersion = "virtsync/v1"

    let file: String
    let reporter: Reporter
    /// Paths of every file of the spec, for `userDataFile` and friends.
    let filePaths: Set<String>

    /// Decodes one document root into `spec`.
    func decode(_ root: Node, into spec: inout ClusterSpec) {
        spec.documentCount += 1
        let location = root.location(in: file)
        guard case .mapping(let mapping) = root else {
            reporter.error(location, "", "a spec document must be a mapping with apiVersion and kind, got \(NodeValue.describe(root))")
            return
        }
        var apiVersionNode: Node?
        var kindNode: Node?
        var nameNode: Node?
        for (key, value) in mapping {
            switch key.scalar?.string {
            case "apiVersion": apiVersionNode = value
            case "kind": kindNode = value
            case "name": nameNode = value
            default: break
            }
        }
        guard let kind = readKind(kindNode, at: location) else { return }
        var name: String?
        if let nameNode, case .scalar(let scalar) = nameNode, !scalar.string.isEmpty {
            name = scalar.string.escapedForPath
        }
        let path = name.map { "\(kind.rawValue)[\($0)]" } ?? kind.rawValue
        guard checkAPIVersion(apiVersionNode, at: location, path: path) else { return }
        let header = DocumentHeader(kind: kind, name: nil, location: location, path: path)
        switch kind {
        case .host:
            guard let map = MapReader(root, file: file, path: path, keys: Self.hostKeys, reporter: reporter) else { return }
            spec.hosts.append(decodeHost(map, header: header))
        case .network:
            guard let map = MapReader(root, file: file, path: path, keys: Self.networkKeys, reporter: reporter) else { return }
            spec.networks.append(decodeNetwork(map, header: header))
        case .storagePool:
            guard let map = MapReader(root, file: file, path: path, keys: Self.poolKeys, reporter: reporter) else { return }
            spec.pools.append(decodePool(map, header: header))
        case .virtualMachine:
            guard let map = MapReader(root, file: file, path: path, keys: Self.machineKeys, reporter: reporter) else { return }
            spec.machines.append(decodeMachine(map, header: header))
        case .settings:
            guard let map = MapReader(root, file: file, path: path, keys: Self.settingsKeys, reporter: reporter) else { return }
            spec.settings.append(decodeSettings(map, header: header))
        case .secret:
            guard let map = MapReader(root, file: file, path: path, keys: Self.secretKeys, reporter: reporter) else { return }
            spec.secrets.append(decodeSecret(map, header: header))
        }
    }

    private func readKind(_ node: Node?, at location: SourceLocation) -> DocumentKind? {
        let allowed = DocumentKind.allCases.map(\.rawValue)
        guard let node, case .scalar(let scalar) = node, case .string = NodeValue(node) else {
            let got = node.map { ", got \(NodeValue.describe($0))" } ?? ""
            reporter.error(node?.location(in: file) ?? location, "kind",
                           "missing or invalid 'kind'; expected one of \(allowed.joined(separator: ", "))\(got)")
            return nil
        }
        guard let kind = DocumentKind(rawValue: scalar.string) else {
            var message = "unknown kind \(scalar.string.quotedForMessage); expected one of \(allowed.joined(separator: ", "))"
            if let close = Suggest.closest(to: scalar.string, among: allowed) { message += " (did you mean '\(close)'?)" }
            reporter.error(node.location(in: file), "kind", message)
            return nil
        }
        return kind
    }

    /// Reports a missing or unsupported `apiVersion`; returns false when the document must be
    /// skipped (another version's rules are unknown).
    private func checkAPIVersion(_ node: Node?, at location: SourceLocation, path: String) -> Bool {
        guard let node else {
            reporter.error(location, path + ".apiVersion", "missing required key 'apiVersion' (\(Self.apiVersion))")
            return true
        }
        guard let text = node.scalar?.string, text == Self.apiVersion else {
            reporter.error(node.location(in: file), path + ".apiVersion",
                           "unsupported apiVersion \(NodeValue.describe(node)); this loader reads \(Self.apiVersion)")
            return false
        }
        return true
    }

    // MARK: - Helpers shared by the kinds

    /// The document's `name`, checked.
    func readName(_ map: MapReader) -> Located<String>? {
        guard let name = map.string("name", required: true) else { return nil }
        if let problem = Formats.nameProblem(name.value) {
            reporter.error(name.location, map.keyPath("name"), problem)
        }
        return name
    }

    /// A name-valued key (network, pool, host reference), checked.
    func readNameRef(_ map: MapReader, _ key: String, required: Bool = false) -> Located<String>? {
        guard let value = map.string(key, required: required) else { return nil }
        if let problem = Formats.nameProblem(value.value) {
            reporter.error(value.location, map.keyPath(key), problem)
            return nil
        }
        return value
    }

    /// `hosts: [a, b]` of a network or pool.
    func readHostList(_ map: MapReader) -> [Located<String>]? {
        guard let hosts = map.stringList("hosts") else { return nil }
        var seen = Set<String>()
        for (index, host) in hosts.enumerated() where !seen.insert(host.value).inserted {
            reporter.error(host.location, "\(map.keyPath("hosts"))[\(index)]", "host '\(host.value)' is listed twice")
        }
        return hosts
    }

    /// A `pool/volume` reference.
    func readVolumeRef(_ map: MapReader, _ key: String) -> Located<VolumeRef>? {
        guard let text = map.string(key) else { return nil }
        let parts = text.value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            reporter.error(text.location, map.keyPath(key),
                           "\(text.value.quotedForMessage) is not a volume reference; write pool/volume, e.g. vms/base.qcow2")
            return nil
        }
        for part in parts {
            if let problem = Formats.nameProblem(String(part)) {
                reporter.error(text.location, map.keyPath(key), problem)
                return nil
            }
        }
        return Located(VolumeRef(pool: String(parts[0]), volume: String(parts[1])), text.location)
    }

    /// An absolute host path.
    func readAbsolutePath(_ map: MapReader, _ key: String, required: Bool = false) -> Located<String>? {
        guard let path = map.string(key, required: required) else { return nil }
        if let problem = Formats.absolutePathProblem(path.value) {
            reporter.error(path.location, map.keyPath(key), problem)
            return nil
        }
        return Located(Formats.normalizedPath(path.value), path.location)
    }

    // MARK: - Host and Settings

    static let hostKeys = KeySet(["apiVersion", "kind", "name", "uri", "migrationURI", "labels", "maintenance", "capacity",
                                   "hugepageSizes"])
    static let capacityKeys = KeySet(["memory", "cpus"])
    static let settingsKeys = KeySet(["apiVersion", "kind", "prune", "maxDeletePercent", "deleteVolumesWithVM", "migration", "owner"])
    static let migrationKeys = KeySet(["maxPerHost", "maxPerCluster", "bandwidth", "maxDowntime", "timeout", "allowUnsafe"])

    private func decodeHost(_ map: MapReader, header: DocumentHeader) -> HostSpec {
        var header = header
        header.name = readName(map)
        var host = HostSpec(header: header)
        if let uri = map.string("uri") {
            if let problem = Formats.uriProblem(uri.value) {
                reporter.error(uri.location, map.keyPath("uri"), problem)
            } else {
                host.uri = uri
            }
        }
        if let uri = map.string("migrationURI") {
            if let problem = Formats.uriProblem(uri.value) {
                reporter.error(uri.location, map.keyPath("migrationURI"), problem)
            } else {
                host.migrationURI = uri
            }
        }
        host.labels = readLabels(map, "labels")
        host.maintenance = map.bool("maintenance")
        if let capacity = map.map("capacity", keys: Self.capacityKeys) {
            host.memoryCapacity = capacity.size("memory")
            host.cpuCapacity = capacity.int("cpus", range: 1...1_000_000)
        }
        host.hugepageSizes = readHugepageSizes(map)
        return host
    }

    private func decodeSettings(_ map: MapReader, header: DocumentHeader) -> SettingsSpec {
        var owner: Located<String>?
        if let value = map.string("owner") {
            if let problem = Formats.ownerProblem(value.value) {
                reporter.error(value.location, map.keyPath("owner"), problem)
            } else {
                owner = value
            }
        }
        return SettingsSpec(header: header,
                            prune: map.bool("prune"),
                            maxDeletePercent: map.int("maxDeletePercent", range: 0...100)?.value,
                            deleteVolumesWithVM: map.bool("deleteVolumesWithVM"),
                            migration: map.map("migration", keys: Self.migrationKeys).map(decodeMigration),
                            owner: owner)
    }

    private func decodeMigration(_ map: MapReader) -> MigrationSettings {
        let defaults = MigrationSettings()
        var bandwidth: Int?
        if let size = map.size("bandwidth") {
            // Written as a size per second (`100MiB`); libvirt takes whole MiB/s.
            let mib = size.value.bytes / (1 << 20)
            if mib < 1 {
                reporter.error(size.location, map.keyPath("bandwidth"), "bandwidth \(size.value) per second is below 1MiB")
            } else {
                bandwidth = Int(clamping: mib)
            }
        }
        return MigrationSettings(maxPerHost: map.int("maxPerHost", range: 1...64)?.value ?? defaults.maxPerHost,
                                 maxPerCluster: map.int("maxPerCluster", range: 1...1024)?.value ?? defaults.maxPerCluster,
                                 bandwidthMiBps: bandwidth,
                                 maxDowntime: map.duration("maxDowntime", range: 0.001...60)?.value ?? defaults.maxDowntime,
                                 timeout: map.duration("timeout", range: 1...86_400)?.value ?? defaults.timeout,
                                 allowUnsafe: map.bool("allowUnsafe") ?? defaults.allowUnsafe)
    }

    /// `labels: {zone: a}`: names and values are tokens (letters, digits, `-`, `_`, `.`).
    func readLabels(_ map: MapReader, _ key: String) -> [String: String] {
        guard let node = map.node(key) else { return [:] }
        guard case .mapping(let mapping) = node else {
            map.typeError(key, expected: "a mapping of label names to values", got: node)
            return [:]
        }
        var labels: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let name) = keyNode, case .scalar(let value) = valueNode else {
                reporter.error(keyNode.location(in: file), map.keyPath(key), "a label is a name and a string value, e.g. zone: a")
                continue
            }
            let path = "\(map.keyPath(key)).\(name.string)"
            if let problem = Formats.labelProblem(name.string) ?? Formats.labelProblem(value.string) {
                reporter.error(keyNode.location(in: file), path, problem)
                continue
            }
            labels[name.string] = value.string
        }
        return labels
    }
}
