import VirtsyncXML
import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// `adopt` of a domain: writes the ownership marker into `<metadata>` with
    /// `virDomainSetMetadata`, and nothing else, so the rest of the definition stays byte for
    /// byte what it was. Refused when the domain carries another owner's marker (checked again
    /// here: the plan may be old). The marker records the digest of the spec's raw XML only when
    /// every fragment element is in the definition already; otherwise an empty digest, so the
    /// next plan shows the fragments as a change instead of taking them as applied.
    func adoptDomain(_ step: PlanStep) async throws {
        guard case .domain(let model, _, let planned) = step.payload else { throw missingPayload(step) }
        let name = step.resource.name
        let operation = "adopt domain \(name)"
        try await run(operation) { call in
            var marker = planned
            let domain = try call.existingDomain(name, operation)
            let xml = try call.domainXML(domain, inactive: true, operation)
            let root = try parsing("domain \(name)") { () throws(LibvirtXMLError) in try XMLParser.parse(xml) }
            if let held = LibvirtXML.marker(in: root), let holder = held.owner, holder != marker.owner {
                throw HypervisorError(code: .rejected, message: "domain \(name) is owned by \(holder)", operation: operation)
            }
            if !LibvirtXML.fragmentsPresent(model.extraXML, in: root) { marker.extraDigest = "" }
            var element = LibvirtXML.markerElement(marker, model: model)
            element.name = OwnershipMarker.element
            element.attributes.removeAll { $0.name.hasPrefix("xmlns") }
            var flags = VIR_DOMAIN_AFFECT_CONFIG.rawValue
            if try call.isActive(domain: domain, operation) { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
            try call.check(virDomainSetMetadata(domain.pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), element.serialized(),
                                                OwnershipMarker.prefix, OwnershipMarker.namespace, flags), operation)
        }
    }

    /// `adopt` of a network, pool or volume: nothing is written to libvirt (the engine records
    /// the inventory entry); checks that the object is still the one planned (same UUID, or
    /// the same path for a volume).
    func checkAdoptable(_ step: PlanStep) async throws {
        guard case .adopted(let expected) = step.payload else { throw missingPayload(step) }
        let name = step.resource.name
        let operation = "adopt \(step.resource.kind.rawValue) \(name)"
        let kind = step.resource.kind
        let found: String? = try await run(operation) { call in
            switch kind {
            case .network:
                guard let network = try call.network(name) else { return nil }
                return try call.uuid(operation) { virNetworkGetUUIDString(network.pointer, $0) }
            case .pool:
                guard let pool = try call.pool(name) else { return nil }
                return try call.uuid(operation) { virStoragePoolGetUUIDString(pool.pointer, $0) }
            case .volume:
                let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, let pool = try call.pool(parts[0]),
                      let volume = try call.volume(parts[1], in: pool, poolName: parts[0]) else { return nil }
                return try LibvirtXML.parseVolume(try call.volumeXML(volume, operation), pool: parts[0]).path
            case .domain, .secret:
                return nil
            }
        }
        guard let found else {
            throw HypervisorError(code: .notFound, message: "\(kind.rawValue) \(name) is gone", operation: operation)
        }
        guard found.lowercased() == expected.lowercased() else {
            throw HypervisorError(code: .rejected, message: "\(kind.rawValue) \(name) is another object than the one planned (\(found), not \(expected))",
                                  operation: operation)
        }
    }
}

extension LibvirtXML {
    /// Whether the raw XML fragments are in the definition already: each element at its path
    /// (`os/bootmenu`, `devices/rng`) satisfied by an unowned element there, compared in
    /// canonical form (attribute order, quoting and indentation do not count; what libvirt adds,
    /// such as an `<address>`, does not either).
    static func fragmentsPresent(_ extra: ExtraXML, in root: XElement) -> Bool {
        if extra.isEmpty { return true }
        let leaves = Hatch.leaves(extra)
        // A fragment that does not parse is not in any definition.
        if leaves.isEmpty { return false }
        return hatchHolds(leaves, in: root, document: .domain)
    }

    /// An element with sorted attributes, trimmed text and no whitespace-only text nodes.
    static func canonical(_ element: XElement) -> XElement {
        var out = element
        out.attributes = element.attributes.sorted { $0.name < $1.name }
        out.children = element.children.compactMap { node in
            switch node {
            case .element(let e): return .element(canonical(e))
            case .text(let t):
                let trimmed = t.trimmingCharacters(in: .whitespacesAndNewlines)
                return trimmed.isEmpty ? nil : .text(trimmed)
            case .raw(let r): return .raw(r)
            }
        }
        return out
    }
}

extension LibvirtSession {
    /// A domain's persistent definition as libvirt writes it (`VIR_DOMAIN_XML_INACTIVE`), for
    /// `virtsync import`.
    public func inactiveDefinition(ofDomain name: String) async throws -> String {
        let operation = "read domain \(name)"
        return try await run(operation) { call in
            try call.domainXML(try call.existingDomain(name, operation), inactive: true, operation)
        }
    }
}

extension LibvirtSession {
    /// A network's persistent definition, for `virtsync import`.
    public func definition(ofNetwork name: String) async throws -> String {
        let operation = "read network \(name)"
        return try await run(operation) { call in
            guard let network = try call.network(name) else {
                throw HypervisorError(code: .notFound, message: "no network \(name)", operation: operation)
            }
            return try call.networkXML(network, operation)
        }
    }
}

extension LibvirtXML {
    /// The unowned elements of a network definition as an `xml.network` fragment, for `virtsync
    /// import`; `nil` when there are none. The bridge's `<mac>` is libvirt's (generated), not
    /// carried.
    public static func hatchFragment(networkXML xml: String) throws(LibvirtXMLError) -> String? {
        let root = try XMLParser.parse(xml)
        guard root.name == "network" else { throw LibvirtXMLError(message: "expected <network>, found <\(root.name)>") }
        let leaves = Hatch.unowned(in: root, document: .network).filter { $0.path != "mac" }
        return leaves.isEmpty ? nil : leaves.map { $0.node.element.serialized() }.joined()
    }

    /// The parts of a network definition the model does not cover, in words (a second IPv6
    /// address, raw DNS records, NAT port ranges, static routes, ...): an update by virtsync redefines the
    /// network from the model, without them.
    public static func uncovered(networkXML xml: String) throws(LibvirtXMLError) -> [String] {
        let root = try XMLParser.parse(xml)
        guard root.name == "network" else { throw LibvirtXMLError(message: "expected <network>, found <\(root.name)>") }
        var out: [String] = []
        var ipv6Seen = false
        for element in root.elements {
            switch element.name {
            case "name", "uuid", "bridge", "mac", "domain":
                continue
            case "dns":
                // Host records and forwarders are the model's (`dns`); the rest is raw XML, by path.
                let raw = Set(element.elements.map(\.name)).subtracting(["host", "forwarder"])
                out += raw.sorted().map { "<dns/\($0)>" }
            case "mtu", "bandwidth", "portgroup":
                continue
            case "forward":
                // The uplink of a NAT or routed network is the model's (`uplink`, with libvirt's
                // <interface dev> echo of it); anything else in <forward> is not.
                let modelled = NetworkModel.takesUplink(parseMode(element))
                let details = element.elements.filter { !(modelled && $0.name == "interface") }
                let dev = modelled ? nil : element[attribute: "dev"]
                if !details.isEmpty || dev != nil {
                    out.append("<forward> details: \(Set(details.map { "<\($0.name)>" }).sorted().joined(separator: ", "))\(dev.map { " dev='\($0)'" } ?? "")")
                }
            case "ip":
                // The first IPv6 <ip> is the model's (`ipv6`); libvirt serves DHCPv6 on one only.
                if element[attribute: "family"] == "ipv6" {
                    if ipv6Seen { out.append("another IPv6 address (<ip family='ipv6' address='\(element[attribute: "address"] ?? "")'>)"); continue }
                    ipv6Seen = true
                }
                let extra = element.elements.flatMap { $0.name == "dhcp" ? $0.elements.filter { !["range", "host"].contains($0.name) } : [$0] }
                    .filter { $0.name != "dhcp" }
                if !extra.isEmpty { out.append("<ip> details: \(Set(extra.map { "<\($0.name)>" }).sorted().joined(separator: ", "))") }
            default:
                out.append("<\(element.name)>")
            }
        }
        return out
    }
}
