import VirtsyncCore
import Foundation
import Yams

/// `numa` (guest cells, host binding) and `memoryBacking` (huge pages, locking) of a VM, the
/// huge page sizes a Host offers, and `graphics.listen`.
extension DocumentDecoder {
    static let numaKeys = KeySet(["cells", "tune"])
    static let numaCellKeys = KeySet(["cpus", "memory"])
    static let numaTuneKeys = KeySet(["mode", "nodeset"])
    static let memoryBackingKeys = KeySet(["hugepages", "locked"])

    func decodeMemoryTuning(_ map: MapReader, into vm: inout MachineSpec) {
        var tuning = DomainMemoryTuning()
        if let numa = map.map("numa", keys: Self.numaKeys) {
            let maxVcpus = vm.cpuTuning.topology?.vcpus ?? vm.maxVcpus?.value ?? vm.vcpus?.value ?? 1
            tuning.numaCells = readNUMACells(numa, maxVcpus: maxVcpus, memory: vm.memory?.value, maxMemory: vm.maxMemory?.value)
            if let tune = numa.map("tune", keys: Self.numaTuneKeys) {
                let mode = tune.choice("mode", NUMATuneMode.allCases)?.value ?? .strict
                if let nodeset = readCPUSet(tune, "nodeset", required: true, what: "host NUMA nodes") {
                    tuning.numaTune = NUMATune(mode: mode, nodeset: nodeset)
                }
            }
        }
        if let backing = map.map("memoryBacking", keys: Self.memoryBackingKeys) {
            if let node = backing.node("hugepages") {
                switch NodeValue(node) {
                case .bool(let on):
                    tuning.hugepages = on ? .defaultSize : .off
                default:
                    if let size = backing.size("hugepages") {
                        if size.value.bytes % 4096 != 0 || size.value.bytes & (size.value.bytes - 1) != 0 {
                            reporter.error(size.location, backing.keyPath("hugepages"),
                                           "a huge page size is a power of two of at least 4KiB, such as 2MiB or 1GiB")
                        } else {
                            tuning.hugepages = .size(size.value)
                            vm.hugepageSizeAt = size.location
                        }
                    }
                }
            }
            tuning.locked = backing.bool("locked")
        }
        vm.memoryTuning = tuning
    }

    /// Guest NUMA cells: vCPUs that exist, no vCPU in two cells, memory adding up to the VM's
    /// maximum memory (libvirt sets `<memory>` to the sum of the cells).
    private func readNUMACells(_ numa: MapReader, maxVcpus: Int, memory: ByteSize?, maxMemory: ByteSize?) -> [NUMACell]? {
        guard let nodes = numa.list("cells") else { return nil }
        var cells: [NUMACell] = []
        var owner: [Int: Int] = [:]
        var valid = true
        for (index, node) in nodes.enumerated() {
            let path = "\(numa.keyPath("cells"))[\(index)]"
            guard let cell = MapReader(node, file: file, path: path, keys: Self.numaCellKeys, reporter: reporter) else { valid = false; continue }
            let cpus = readCPUSet(cell, "cpus", required: true, what: "vCPUs")
            let size = cell.size("memory", required: true)
            if let size, size.value.bytes % 1024 != 0 {
                reporter.error(size.location, cell.keyPath("memory"), "memory must be a whole number of KiB")
                valid = false
            }
            guard let cpus, let size else { valid = false; continue }
            if let beyond = cpus.cpus.first(where: { $0 >= maxVcpus }) {
                reporter.error(cell.valueLocation("cpus"), cell.keyPath("cpus"),
                               "vCPU \(beyond) does not exist: the VM has \(maxVcpus) (numbered from 0)")
                valid = false
            }
            if let shared = cpus.cpus.first(where: { owner[$0] != nil }), let first = owner[shared] {
                reporter.error(cell.valueLocation("cpus"), cell.keyPath("cpus"), "vCPU \(shared) is also in cells[\(first)]")
                valid = false
            }
            for cpu in cpus.cpus where owner[cpu] == nil { owner[cpu] = index }
            cells.append(NUMACell(cpus: cpus, memory: size.value))
        }
        if nodes.isEmpty {
            reporter.error(numa.valueLocation("cells"), numa.keyPath("cells"), "an empty list declares no cell; give at least one, or leave 'cells' out")
            return nil
        }
        guard valid else { return nil }
        let sum = cells.reduce(UInt64(0)) { $0 &+ $1.memory.bytes }
        if let wanted = maxMemory ?? memory, sum != wanted.bytes {
            let key = maxMemory == nil ? "memory" : "maxMemory"
            reporter.error(numa.valueLocation("cells"), numa.keyPath("cells"),
                           "the cells hold \(ByteSize(bytes: sum)) in all, but \(key) is \(wanted); libvirt requires the cells to add up "
                           + "to the VM's maximum memory")
            return nil
        }
        return cells
    }

    /// `hugepageSizes` of a Host: the huge page sizes it offers.
    func readHugepageSizes(_ map: MapReader) -> [Located<ByteSize>]? {
        guard let nodes = map.list("hugepageSizes") else { return nil }
        var sizes: [Located<ByteSize>] = []
        for (index, node) in nodes.enumerated() {
            let path = "\(map.keyPath("hugepageSizes"))[\(index)]"
            guard case .scalar(let scalar) = node, let size = try? ByteSize.parse(scalar.string), size.bytes > 0 else {
                reporter.error(node.location(in: file), path, "expected a size with a unit, such as 2MiB or 1GiB")
                continue
            }
            sizes.append(Located(size, node.location(in: file)))
        }
        return sizes
    }

    /// `graphics.listen`: an IPv4 or IPv6 address (a name would be resolved by QEMU at start,
    /// and could then mean another interface than the one intended).
    func readListenAddress(_ graphics: MapReader, display: GraphicsType?) -> Located<String>? {
        guard let listen = graphics.string("listen") else { return nil }
        guard Formats.parseIPv4(listen.value) != nil || Self.isIPv6(listen.value) else {
            reporter.error(listen.location, graphics.keyPath("listen"),
                           "\(listen.value.quotedForMessage) is not an IP address; use e.g. 127.0.0.1 (the default), 0.0.0.0 or ::")
            return nil
        }
        if display == GraphicsType.none {
            reporter.error(listen.location, graphics.keyPath("listen"), "a listen address needs a display: type vnc or spice")
            return nil
        }
        return listen
    }

    /// An IPv6 address in text form (`::`, `fe80::1`, `::ffff:10.0.0.1`), without zone or prefix.
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (halfIndex, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let last = halfIndex == halves.count - 1 && index == parts.count - 1
                if last, part.contains("."), Formats.parseIPv4(String(part)) != nil {
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}
