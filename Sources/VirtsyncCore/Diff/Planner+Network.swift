extension PlanBuilder {
    /// Networks of one host.
    mutating func planNetworks(host: DesiredHost, live: ObservedHost, usage: HostUsage) {
        for net in host.networks {
            let ref = ResourceRef(kind: .network, host: host.name, name: net.name)
            guard let seen = live.networks[net.name] else {
                for clash in Conflicts.network(net, among: live.networks.values) {
                    note(.error, ref, "network \(net.name) cannot be created: \(clash) (renaming a network that keeps its bridge or subnet takes two applies: remove the old one first)")
                }
                add(PlanStep(action: .create, resource: ref,
                             changes: networkFields(nil, net) + HatchDiff.creation(Hatch.leaves(net.extraXML, in: .network), document: .network),
                             disruption: .none,
                             reason: "in the spec, not on the host", payload: .network(net)))
                continue
            }
            var changes = networkFields(seen.model, net)
            // libvirt applies a network's definition when it starts: raw XML changes restart it.
            changes += hatchFields(net.extraXML, seen.hatch, document: .network, disruption: seen.active ? .restart : .none)
            let drift = changes.isEmpty ? "" : " (differs in: \(changes.map(\.field).joined(separator: ", ")))"
            guard ownedOrAdopted(seen.claim(by: owner), ref: ref, noun: "network \(net.name)", differences: changes.map(\.field),
                                 payload: .adopted(uuid: seen.uuid),
                                 unmanaged: "network \(net.name) exists and is not managed by virtsync; used as it is, never changed\(drift)") else {
                continue
            }
            let worst = changes.map(\.disruption).max() ?? .none
            if worst == .replace {
                add(PlanStep(action: .replace, resource: ref, changes: changes, disruption: .replace,
                             reason: "forwarding, bridge, addressing, MTU or shaping changed: the network is restarted and guests on it lose connectivity until re-plugged",
                             payload: .network(net)))
            } else if !changes.isEmpty {
                let restarts = worst == .restart
                add(PlanStep(action: .update, resource: ref, changes: changes, disruption: worst,
                             reason: restarts ? "raw XML changed: the network is stopped and started again with the new definition (libvirt applies it at start; guests on it lose connectivity until re-plugged)" : "settings changed",
                             payload: .network(net)))
            }
            if !seen.active && worst != .replace {
                add(PlanStep(action: .start, resource: ref, disruption: .none, reason: "network is inactive"))
            }
        }
        for name in live.networks.keys.sorted() where !host.networks.contains(where: { $0.name == name }) {
            guard let seen = live.networks[name] else { continue }
            switch seen.claim(by: owner) {
            case .ours: break
            case .unowned: unownedOutsideSpec(ResourceRef(kind: .network, host: host.name, name: name), noun: "network \(name)"); continue
            case .other, .unmanaged: continue
            }
            let blockers = usage.users(ofNetwork: name).filter { dom in
                stillUses(dom, in: host) { $0.interfaces.contains { $0.source == .network(name) } }
            }
            if !blockers.isEmpty {
                note(.info, ResourceRef(kind: .network, host: host.name, name: name),
                     "network \(name) is no longer in the spec; kept while domain \(blockers.map(\.model.name).sorted().joined(separator: ", ")) uses it")
                continue
            }
            removed(ResourceRef(kind: .network, host: host.name, name: name), disruption: seen.active ? .stop : .none,
                    detail: seen.active ? "the network is stopped and undefined" : "the network is undefined")
        }
    }

    /// Field changes of a network; DHCP static hosts change live, the rest needs a restart of the network.
    private func networkFields(_ before: NetworkModel?, _ after: NetworkModel) -> [FieldChange] {
        var fields = FieldList(creating: before == nil)
        fields.compare("mode", before?.mode.rawValue, after.mode.rawValue, .replace)
        if after.bridge != nil || after.mode == .bridge { fields.compare("bridge", before?.bridge, after.bridge, .replace) }
        let a = before?.ipv4, b = after.ipv4
        fields.compare("ipv4.address", a.map { "\($0.address)/\($0.prefix)" }, b.map { "\($0.address)/\($0.prefix)" }, .replace)
        fields.compare("ipv4.dhcp", a.flatMap(dhcpRange), b.flatMap(dhcpRange), .replace)
        let hostsBefore = Set(a?.hosts ?? []), hostsAfter = Set(b?.hosts ?? [])
        for h in hostsAfter.subtracting(hostsBefore).sorted(by: { $0.mac < $1.mac }) {
            fields.changes.append(FieldChange(field: "ipv4.dhcp.hosts[\(h.mac)]", before: nil, after: "\(h.ip)\(h.name.map { " \($0)" } ?? "")", disruption: before == nil ? .none : .live))
        }
        for h in hostsBefore.subtracting(hostsAfter).sorted(by: { $0.mac < $1.mac }) {
            fields.changes.append(FieldChange(field: "ipv4.dhcp.hosts[\(h.mac)]", before: "\(h.ip)\(h.name.map { " \($0)" } ?? "")", after: nil, disruption: .live))
        }
        fields.compare("autostart", before.map { String($0.autostart) }, String(after.autostart), .none)
        fields.changes += NetworkDiff.ipv6(before, after)
        fields.changes += NetworkDiff.dns(before, after)
        fields.changes += NetworkDiff.link(before, after)
        fields.changes += NetworkDiff.portgroups(before, after)
        return fields.changes
    }

    private func dhcpRange(_ ip: IPv4Config) -> String? {
        guard let s = ip.dhcpStart, let e = ip.dhcpEnd else { return nil }
        return "\(s)-\(e)"
    }
}
