/// Interfaces: compared by position. Options the spec leaves open are not compared; a changed
/// bandwidth alone, the link state and a NIC added at the end are applied live (the last by
/// hot-plug), everything else at the next boot.
extension DomainDiff {
    static func compareInterfaces(desired vm: DomainModel, observed seen: ObservedDomain, into r: inout Result) {
        let old = seen.model
        let running = seen.state.isActive
        let boot: Disruption = running ? .nextBoot : .none
        func add(_ field: String, _ a: String?, _ b: String?, _ d: Disruption) {
            if a != b { r.changes.append(FieldChange(field: field, before: a, after: b, disruption: running ? d : .none)) }
        }

        let nicCount = max(vm.interfaces.count, old.interfaces.count)
        for i in 0..<nicCount {
            guard var a = i < old.interfaces.count ? old.interfaces[i] : nil else {
                // A NIC added at the end is plugged into the running guest as well.
                if i < vm.interfaces.count {
                    add("interfaces[\(i)]", nil, describe(vm.interfaces[i]), .live)
                    if running { r.live.append(.attachInterface(mac: vm.interfaces[i].mac, index: i)) }
                }
                continue
            }
            guard var b = i < vm.interfaces.count ? vm.interfaces[i] : nil else {
                add("interfaces[\(i)]", describe(a), nil, boot)
                continue
            }
            if b.mac == nil { b.mac = a.mac }   // a MAC the spec leaves open keeps the generated one
            // Options the spec leaves open are libvirt's (or whoever set them).
            a.options = (a.options ?? InterfaceOptions()).masked(by: b.options)
            if staticPart(a) != staticPart(b) {
                add("interfaces[\(i)]", describe(a), describe(b), boot)
                continue
            }
            let before = a.options?.bandwidth ?? InterfaceBandwidth(), after = b.options?.bandwidth ?? InterfaceBandwidth()
            if b.options?.bandwidth != nil, before != after {
                // QEMU's tap device takes new shaping on a running guest.
                add("interfaces[\(i)].bandwidth", before.summary, after.summary, .live)
                if running, let mac = a.mac { r.live.append(.setInterfaceBandwidth(mac: mac, after)) }
            } else if b.options?.bandwidth != nil, running, let mac = a.mac, let live = seen.live, live.linkUp[mac] != nil,
                      (live.bandwidth[mac] ?? InterfaceBandwidth()) != after {
                // The definition is right but the running guest is shaped otherwise (a live
                // call that did not happen).
                r.changes.append(FieldChange(field: "interfaces[\(i)].bandwidth.live", before: (live.bandwidth[mac] ?? InterfaceBandwidth()).summary,
                                             after: after.summary, disruption: .live))
                r.live.append(.setInterfaceBandwidth(mac: mac, after))
            }
            if a.linkUp != b.linkUp {
                add("interfaces[\(i)].link", a.linkUp ? "up" : "down", b.linkUp ? "up" : "down", .live)
                if running, let mac = a.mac { r.live.append(.setLink(mac: mac, up: b.linkUp)) }
            } else if running, let mac = a.mac, let liveUp = seen.live?.linkUp[mac], liveUp != b.linkUp {
                r.changes.append(FieldChange(field: "interfaces[\(i)].link.live", before: liveUp ? "up" : "down", after: b.linkUp ? "up" : "down", disruption: .live))
                r.live.append(.setLink(mac: mac, up: b.linkUp))
            }
        }
    }

    /// An interface without what changes live (link state, bandwidth).
    private static func staticPart(_ nic: InterfaceModel) -> InterfaceModel {
        var nic = nic
        nic.linkUp = true
        nic.options?.bandwidth = nil
        if nic.options?.isEmpty == true { nic.options = nil }
        return nic
    }
}

/// One line per interface for plans.
func describe(_ n: InterfaceModel) -> String {
    let src: String
    switch n.source {
    case .network(let name): src = "network \(name)"
    case .bridge(let name): src = "bridge \(name)"
    case .direct(let device, let mode): src = "direct \(device) \(mode.rawValue)"
    }
    return "\(src) \(n.model)\(n.mac.map { " \($0)" } ?? "")\(n.linkUp ? "" : " link down")\(n.options?.summary ?? "")"
}
