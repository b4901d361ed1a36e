import VirtsyncCore

/// Checks across documents: unique names, references, placement on hosts, volumes, MACs and
/// UUIDs, capacity. Fills a `SpecIndex` for the normalizer.
struct SpecValidator {
    let spec: ClusterSpec
    let reporter: Reporter
    var index = SpecIndex()

    init(spec: ClusterSpec, reporter: Reporter) {
        self.spec = spec
        self.reporter = reporter
    }

    /// Runs every check and returns what was resolved.
    static func validate(_ spec: ClusterSpec, reporter: Reporter, files: [String: SpecFile] = [:]) -> SpecIndex {
        var validator = SpecValidator(spec: spec, reporter: reporter)
        validator.checkEmpty()
        validator.checkUniqueNames()
        validator.resolveHosts()
        validator.index.networkHosts = spec.networks.map { validator.placement(hosts: $0.hosts, at: $0.hostsLocation, header: $0.header) }
        validator.index.poolHosts = spec.pools.map { validator.placement(hosts: $0.hosts, at: $0.hostsLocation, header: $0.header) }
        validator.checkBridgesAndPaths()
        validator.checkSubnets()
        validator.checkIPv6Prefixes()
        validator.placeMachines()
        validator.checkMachineReferences()
        validator.checkPortgroupReferences()
        validator.checkFailoverStorage()
        validator.checkFailback()
        validator.checkHostDevicePinning()
        validator.checkBootOrder()
        validator.checkPlatformAgainstEscapeHatch()
        validator.checkIdentities()
        validator.checkCapacity()
        validator.checkHugepageSizes()
        validator.buildVolumeTable()
        validator.checkSecrets(files: files)
        return validator.index
    }

    // MARK: - Reporting helpers

    /// Reports a reference to a missing document, with a suggestion. Skipped when a file could
    /// not be parsed: the target may be in it, and a false alarm helps nobody.
    func dangling(_ ref: Located<String>, path: String, kind: DocumentKind, candidates: @autoclosure () -> [String]) {
        guard !spec.incomplete else { return }
        var message = "unknown \(Self.noun(kind)) \(ref.value.quotedForMessage)"
        if let close = Suggest.closest(to: ref.value, among: candidates()) {
            message += "; did you mean '\(close)'?"
        } else {
            message += " (no \(kind.rawValue) document has this name)"
        }
        reporter.error(ref.location, path, message)
    }

    static func noun(_ kind: DocumentKind) -> String {
        switch kind {
        case .host: return "host"
        case .network: return "network"
        case .storagePool: return "pool"
        case .virtualMachine: return "VM"
        case .settings: return "settings"
        case .secret: return "secret"
        }
    }

    // MARK: - Names and hosts

    private func checkEmpty() {
        guard spec.documentCount == 0, !reporter.hasErrors else { return }
        reporter.error(SourceLocation(file: "."), "", "empty spec: no documents (a spec needs at least one document)")
    }

    private mutating func checkUniqueNames() {
        func unique(_ headers: [DocumentHeader]) -> [String: Int] {
            var first: [String: Int] = [:]
            for (position, header) in headers.enumerated() {
                guard let name = header.name else { continue }
                if let earlier = first[name.value] {
                    let other = headers[earlier].name?.location ?? headers[earlier].location
                    reporter.error(name.location, header.path + ".name",
                                   "duplicate \(header.kind.rawValue) name '\(name.value)'; also defined at \(other)")
                } else {
                    first[name.value] = position
                }
            }
            return first
        }
        let hosts = unique(spec.hosts.map(\.header))
        for (name, position) in hosts { index.hostsByName[name] = spec.hosts[position] }
        index.networksByName = unique(spec.networks.map(\.header))
        index.poolsByName = unique(spec.pools.map(\.header))
        _ = unique(spec.machines.map(\.header))
        if spec.settings.count > 1 {
            let first = spec.settings[0].header.location
            for settings in spec.settings.dropFirst() {
                reporter.error(settings.header.location, "Settings", "only one Settings document is allowed; the first is at \(first)")
            }
        }
    }

    private mutating func resolveHosts() {
        if spec.hosts.isEmpty {
            index.hostNames = [SpecIndex.implicitHost]
            return
        }
        index.hostNames = index.hostsByName.keys.sorted()
        var uris: [String: SourceLocation] = [:]
        for host in spec.hosts {
            if let uri = host.uri {
                if let first = uris[uri.value] {
                    reporter.error(uri.location, host.header.path + ".uri", "URI \(uri.value) is also used by the host at \(first)")
                } else {
                    uris[uri.value] = uri.location
                }
            } else if spec.hosts.count > 1 {
                reporter.error(host.header.location, host.header.path + ".uri",
                               "missing required key 'uri': every host needs one when the spec has more than one host")
            }
        }
    }

    /// The hosts a network or pool is placed on: its `hosts` list, or every host.
    private func placement(hosts: [Located<String>]?, at location: SourceLocation, header: DocumentHeader) -> [String] {
        guard let hosts else { return index.hostNames }
        if hosts.isEmpty {
            reporter.error(location, header.path + ".hosts", "'hosts' must not be empty; leave it out to mean every host")
        }
        var placed: [String] = []
        for (position, host) in hosts.enumerated() {
            if index.hostSet.contains(host.value) {
                placed.append(host.value)
            } else {
                dangling(host, path: "\(header.path).hosts[\(position)]", kind: .host, candidates: index.hostNames)
            }
        }
        return Array(Set(placed)).sorted()
    }

    /// Two networks may not claim the same bridge device, nor two pools the same directory or
    /// volume group, on one host.
    private func checkBridgesAndPaths() {
        var bridges: [String: [String: String]] = [:]
        for (position, network) in spec.networks.enumerated() {
            guard let bridge = network.bridge, let name = network.header.name?.value else { continue }
            for host in index.networkHosts[position] {
                if let other = bridges[host, default: [:]][bridge.value] {
                    reporter.error(bridge.location, network.header.path + ".bridge",
                                   "bridge \(bridge.value) is also used by Network[\(other)] on host \(host)")
                    break
                }
                bridges[host, default: [:]][bridge.value] = name
            }
        }
        var targets: [String: [String: String]] = [:]
        for (position, pool) in spec.pools.enumerated() {
            // iSCSI pools share /dev/disk/by-path; rbd and zfs pools have no path.
            guard let name = pool.header.name?.value, pool.type != .iscsi, pool.type?.hasTargetPath ?? true else { continue }
            let target: Located<String>?
            if pool.type == .logical {
                target = pool.volumeGroup.map { Located("volume group " + $0.value, $0.location) }
                    ?? Located("volume group " + name, pool.header.location)
            } else {
                target = pool.path.map { Located("path " + $0.value, $0.location) }
            }
            let key = pool.header.path + (pool.type == .logical ? ".volumeGroup" : ".path")
            guard let target else { continue }
            for host in index.poolHosts[position] {
                if let other = targets[host, default: [:]][target.value] {
                    reporter.error(target.location, key,
                                   "\(target.value) is also used by StoragePool[\(other)] on host \(host)")
                    break
                }
                targets[host, default: [:]][target.value] = name
            }
        }
    }

    /// Two networks on one host may not have overlapping IPv4 subnets: libvirt refuses to start
    /// the second ("Network is already in use by interface"). DHCP ranges lie inside their
    /// subnet, so this also keeps two networks' ranges apart.
    private func checkSubnets() {
        var taken: [String: [(name: String, first: UInt32, last: UInt32, text: String)]] = [:]
        for (position, network) in spec.networks.enumerated() {
            guard let name = network.header.name?.value, let ipv4 = network.ipv4, let address = ipv4.address,
                  let host = ipv4.hostAddress, let prefix = ipv4.prefix, (0...32).contains(prefix) else { continue }
            let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << (32 - prefix)
            let first = host & mask, last = first | ~mask
            let text = "\(Formats.formatIPv4(first))/\(prefix)"
            var reported = false
            for placed in index.networkHosts[position] {
                if !reported, let other = taken[placed, default: []].first(where: { first <= $0.last && $0.first <= last }) {
                    reporter.error(address.location, ipv4.path + ".address",
                                   "subnet \(text) overlaps \(other.text) of Network[\(other.name)] on host \(placed): "
                                   + "libvirt would refuse to start the second")
                    reported = true
                }
                taken[placed, default: []].append((name, first, last, text))
            }
        }
    }
}
