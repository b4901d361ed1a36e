/// Which parts of libvirt's XML the model owns, and through which spec field: one rule per owned
/// element (or attribute), by path from the document's root element.
///
/// Everything the rules leave out belongs to the escape hatch (`xml.domain`, `xml.devices`,
/// `xml.network`, `xml.pool`). An element that holds owned parts without being owned itself
/// (`domain/os`, `domain/devices`, `domain/cpu`, `pool/target`) is a *container*: a fragment
/// element at its path is descended into and only its owned children are refused, so
/// `<os><bootmenu enable='yes'/></os>` is raw XML for `domain/os/bootmenu`.
///
/// To hand a part of the XML to a new spec field, add one line here (e.g.
/// `.element("domain/os/boot", "boot")`): validation then refuses it in fragments naming the
/// field, the observer stops reading it as raw XML, and updates stop removing it.
public enum HatchOwnership {
    /// One owned element or attribute.
    public struct Rule: Sendable, Hashable {
        /// Path from the root, the root's name included (`domain/devices/disk`).
        public var path: String
        /// The owned attribute of the element at `path`; `nil` when the whole element is owned.
        public var attribute: String?
        /// The element is owned only when each condition holds: a `<disk type='block'>` is raw
        /// XML, a `<disk type='volume'>` is `disks`'.
        public var conditions: [Condition]
        /// The spec field that owns it, as the messages name it.
        public var field: String

        /// An attribute that has one of `values` (`defaultValue` when it is absent).
        public struct Condition: Sendable, Hashable {
            public var attribute: String
            public var values: Set<String>
            public var defaultValue: String?

            public init(_ attribute: String, in values: Set<String>, default defaultValue: String? = nil) {
                self.attribute = attribute
                self.values = values
                self.defaultValue = defaultValue
            }
        }

        /// An element owned as a whole, or only when `attribute` has one of `values` (and
        /// every further condition holds).
        public static func element(_ path: String, _ field: String, when attribute: String? = nil, in values: Set<String> = [],
                                   default defaultValue: String? = nil, and more: [Condition] = []) -> Rule {
            let first = attribute.map { [Condition($0, in: values, default: defaultValue)] } ?? []
            return Rule(path: path, attribute: nil, conditions: first + more, field: field)
        }

        /// One attribute of an element (which is then a container).
        public static func attribute(_ path: String, _ attribute: String, _ field: String) -> Rule {
            Rule(path: path, attribute: attribute, conditions: [], field: field)
        }
    }

    /// The document kinds with an escape hatch.
    public enum Document: String, Sendable, CaseIterable {
        case domain, network, pool
    }

    /// A domain (`xml.domain`, `xml.devices`).
    public static let domain: [Rule] = [
        .element("domain/name", "name"),
        .element("domain/uuid", "uuid"),
        .element("domain/metadata", "metadata (virtsync's ownership marker)"),
        .element("domain/memory", "memory/maxMemory"),
        .element("domain/currentMemory", "memory"),
        .element("domain/vcpu", "vcpus/maxVcpus"),
        .attribute("domain/os", "firmware", "firmware"),
        .element("domain/os/type", "machine"),
        .element("domain/os/loader", "firmware/loader"),
        .element("domain/os/nvram", "firmware"),
        .element("domain/os/firmware", "firmware"),
        .element("domain/os/boot", "boot.order"),
        .element("domain/os/bootmenu", "boot.menu"),
        .element("domain/os/kernel", "kernel"),
        .element("domain/os/initrd", "kernel.initrd"),
        .element("domain/os/cmdline", "kernel.cmdline"),
        .attribute("domain/cpu", "mode", "cpu"),
        .element("domain/cpu/model", "cpu.model"),
        .element("domain/cpu/feature", "cpu.features"),
        .element("domain/cpu/topology", "cpu.topology"),
        .element("domain/cpu/numa", "numa.cells"),
        .element("domain/cputune/vcpupin", "cpu.pinning.vcpus"),
        .element("domain/cputune/emulatorpin", "cpu.pinning.emulator"),
        .element("domain/numatune/memory", "numa.tune"),
        .element("domain/memoryBacking/hugepages", "memoryBacking.hugepages"),
        .element("domain/memoryBacking/locked", "memoryBacking.locked"),
        .element("domain/iothreads", "iothreads"),
        .element("domain/devices/controller", "disks (bus: virtio-scsi)", when: "type", in: ["scsi"], and: [.init("model", in: ["virtio-scsi"])]),
        .element("domain/devices/disk", "disks", when: "type", in: ["file", "volume", "block", "network"], default: "file",
                 and: [.init("device", in: ["disk", "cdrom"], default: "disk")]),
        // Interfaces: owned whole, with what is inside (<bandwidth>, <mtu>, <driver queues>,
        // <vlan>, <virtualport>: the interface options); `direct` is the macvtap source.
        .element("domain/devices/interface", "interfaces", when: "type", in: ["network", "bridge", "direct"]),
        .element("domain/devices/graphics", "graphics", when: "type", in: ["vnc", "spice"]),
        .element("domain/devices/serial", "console", when: "type", in: ["pty"]),
        .element("domain/devices/console", "console", when: "type", in: ["pty"]),
    ]

    /// A network (`xml.network`).
    public static let network: [Rule] = [
        .element("network/name", "name"),
        .element("network/uuid", "name (libvirt's UUID)"),
        .element("network/forward", "mode"),
        .element("network/bridge", "bridge"),
        .element("network/ip", "ipv4", when: "family", in: ["ipv4"], default: "ipv4"),
        // Networks (issue 17): parts modelled since spec 1.1.
        .element("network/ip", "ipv6", when: "family", in: ["ipv6"]),
        .element("network/domain", "dns.domain"),
        .attribute("network/dns", "enable", "dns.enable"),
        .attribute("network/dns", "forwardPlainNames", "dns.forwardPlainNames"),
        .element("network/dns/host", "dns.hosts"),
        .element("network/dns/forwarder", "dns.forwarders"),
        .element("network/mtu", "mtu"),
        .element("network/bandwidth", "bandwidth"),
        .element("network/portgroup", "portgroups"),
    ]

    /// A storage pool (`xml.pool`).
    public static let pool: [Rule] = [
        .element("pool/name", "name"),
        .element("pool/uuid", "name (libvirt's UUID)"),
        .element("pool/target/path", "path"),
        .element("pool/source/name", "volumeGroup"),
        .element("pool/source/device", "devices"),
        .element("pool/source/host", "source.host"),
        .element("pool/source/dir", "source.dir"),
        .element("pool/source/initiator", "source.initiator"),
        .element("pool/source/auth", "source.auth"),
        // libvirt's figures, not settings.
        .element("pool/capacity", "(libvirt's figures)"),
        .element("pool/allocation", "(libvirt's figures)"),
        .element("pool/available", "(libvirt's figures)"),
    ]

    /// The rules of a document kind.
    public static func rules(_ document: Document) -> [Rule] {
        switch document {
        case .domain: return domain
        case .network: return network
        case .pool: return pool
        }
    }
}
