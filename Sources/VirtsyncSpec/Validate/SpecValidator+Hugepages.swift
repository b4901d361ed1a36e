import VirtsyncCore

extension SpecValidator {
    /// A VM that asks for huge pages of a given size on a host that declares its sizes
    /// (`hugepageSizes`) gets one of them. Hosts that declare nothing are not checked, nor VMs
    /// placed by virtsync (placement may choose any allowed host).
    func checkHugepageSizes() {
        for (position, vm) in spec.machines.enumerated() {
            guard case .size(let size)? = vm.memoryTuning.hugepages, let location = vm.hugepageSizeAt,
                  position < index.machineHosts.count, let hostName = index.machineHosts[position],
                  let offered = index.hostsByName[hostName]?.hugepageSizes else { continue }
            guard !offered.contains(where: { $0.value == size }) else { continue }
            let list = offered.isEmpty ? "none" : offered.map(\.value.description).joined(separator: ", ")
            reporter.error(location, vm.header.path + ".memoryBacking.hugepages",
                           "host \(hostName) does not offer \(size) huge pages (its hugepageSizes: \(list))")
        }
    }
}
