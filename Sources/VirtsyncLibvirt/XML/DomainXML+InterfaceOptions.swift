import VirtsyncCore
import VirtsyncXML

extension LibvirtXML {
    /// The elements of an interface's options that follow its `<source>`: `<vlan>`,
    /// `<virtualport>`, `<bandwidth>`, in libvirt's order.
    static func interfaceSourceOptionElements(_ options: InterfaceOptions?) -> [XElement] {
        guard let options else { return [] }
        var out: [XElement] = []
        if let vlan = options.vlan { out.append(vlanElement(vlan)) }
        if let port = options.virtualPort {
            var element = XElement("virtualport", [("type", port.type.rawValue)])
            var parameters: [(String, String)] = []
            if let id = port.interfaceId { parameters.append(("interfaceid", id)) }
            if let profile = port.profileId { parameters.append(("profileid", profile)) }
            if !parameters.isEmpty { element.append(XElement("parameters", parameters)) }
            out.append(element)
        }
        if let bandwidth = options.bandwidth, !bandwidth.isEmpty { out.append(bandwidthElement(bandwidth)) }
        return out
    }

    /// `<bandwidth>` with `<inbound>`/`<outbound>` in KiB (per second for rates).
    static func bandwidthElement(_ bandwidth: InterfaceBandwidth) -> XElement {
        var element = XElement("bandwidth")
        for (name, rate) in [("inbound", bandwidth.inbound), ("outbound", bandwidth.outbound)] {
            guard let rate else { continue }
            var attributes = [("average", String(rate.average.bytes / 1024))]
            if let peak = rate.peak { attributes.append(("peak", String(peak.bytes / 1024))) }
            if let burst = rate.burst { attributes.append(("burst", String(burst.bytes / 1024))) }
            element.append(XElement(name, attributes))
        }
        return element
    }

    static func vlanElement(_ vlan: InterfaceVLAN) -> XElement {
        var element = XElement("vlan", vlan.trunk ? [("trunk", "yes")] : [])
        for tag in vlan.tags {
            var attributes = [("id", String(tag))]
            if tag == vlan.native { attributes.append(("nativeMode", (vlan.nativeMode ?? .untagged).rawValue)) }
            element.append(XElement("tag", attributes))
        }
        return element
    }

    /// An interface's options as libvirt reports them; nil when it reports none of them.
    static func parseInterfaceOptions(_ element: XElement) -> InterfaceOptions? {
        var options = InterfaceOptions()
        options.bandwidth = parseBandwidth(element.child("bandwidth"))
        options.mtu = element.child("mtu")?[attribute: "size"].flatMap { Int($0) }
        options.queues = element.child("driver")?[attribute: "queues"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        options.vlan = parseVLAN(element.child("vlan"))
        if element[attribute: "type"] == "network" { options.portgroup = element.child("source")?[attribute: "portgroup"] }
        if let port = element.child("virtualport"), let type = port[attribute: "type"].flatMap(VirtualPortType.init(rawValue:)) {
            let parameters = port.child("parameters")
            options.virtualPort = VirtualPort(type: type, interfaceId: parameters?[attribute: "interfaceid"],
                                              profileId: parameters?[attribute: "profileid"])
        }
        return options.isEmpty ? nil : options
    }

    /// A `<bandwidth>` (of an interface, a network or a port group); `nil` when it shapes nothing
    /// the model has. A value of 0 is no value.
    static func parseBandwidth(_ bandwidth: XElement?) -> InterfaceBandwidth? {
        guard let bandwidth else { return nil }
        func rate(_ name: String) -> BandwidthRate? {
            guard let e = bandwidth.child(name) else { return nil }
            func kib(_ attribute: String) -> ByteSize? {
                e[attribute: attribute].flatMap { UInt64($0) }.flatMap { $0 == 0 ? nil : ByteSize.kib($0) }
            }
            // A floor alone (QoS of a libvirt network) has no average: not a rate the model has.
            guard let average = kib("average") else { return nil }
            return BandwidthRate(average: average, peak: kib("peak"), burst: kib("burst"))
        }
        let shaping = InterfaceBandwidth(inbound: rate("inbound"), outbound: rate("outbound"))
        return shaping.isEmpty ? nil : shaping
    }

    /// A `<vlan>` (of an interface or a port group); `nil` when it has no tag.
    static func parseVLAN(_ vlan: XElement?) -> InterfaceVLAN? {
        guard let vlan else { return nil }
        let tags = vlan.children(named: "tag").compactMap { tag in tag[attribute: "id"].flatMap { Int($0) } }
        let native = vlan.children(named: "tag").first { $0[attribute: "nativeMode"] != nil }
        guard !tags.isEmpty else { return nil }
        return InterfaceVLAN(tags: tags, trunk: vlan[attribute: "trunk"] == "yes" || tags.count > 1,
                             native: native?[attribute: "id"].flatMap { Int($0) },
                             nativeMode: native?[attribute: "nativeMode"].flatMap(VLANNativeMode.init(rawValue:)))
    }

    /// Keeps what an existing interface has and the spec leaves open: `<bandwidth>`, `<mtu>`,
    /// `<driver>` (with the spec's queues set in it), and on the same kind of source `<vlan>` and
    /// `<virtualport>` (with the port ID libvirt generated when the spec gives none), and on the same
    /// network its port group.
    static func keepOpenInterfaceOptions(from existing: XElement, existingSource: InterfaceSource, wanted: InterfaceModel,
                                         into element: inout XElement) {
        let options = wanted.options ?? InterfaceOptions()
        func keep(_ name: String) {
            if element.child(name) == nil, let old = existing.child(name) { element.append(old) }
        }
        if options.bandwidth == nil { keep("bandwidth") }
        if options.mtu == nil { keep("mtu") }
        if var driver = existing.child("driver") {
            if let queues = options.queues { driver[attribute: "queues"] = String(queues) }
            element.setChild("driver", driver)
        }
        if options.portgroup == nil, existingSource == wanted.source, let group = existing.child("source")?[attribute: "portgroup"] {
            element.modifyChild("source") { $0[attribute: "portgroup"] = group }
        }
        guard sameKind(existingSource, wanted.source) else { return }
        if options.vlan == nil { keep("vlan") }
        if let port = options.virtualPort {
            let old = existing.child("virtualport")
            guard port.interfaceId == nil, old?[attribute: "type"] == port.type.rawValue,
                  let id = old?.child("parameters")?[attribute: "interfaceid"] else { return }
            element.modifyChild("virtualport") { virtualport in
                virtualport.modifyChild("parameters") { $0[attribute: "interfaceid"] = id }
            }
        } else {
            keep("virtualport")
        }
    }

    private static func sameKind(_ a: InterfaceSource, _ b: InterfaceSource) -> Bool {
        switch (a, b) {
        case (.network, .network), (.bridge, .bridge), (.direct, .direct): return true
        default: return false
        }
    }
}
