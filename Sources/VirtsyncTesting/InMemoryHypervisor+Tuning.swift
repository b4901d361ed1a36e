import VirtsyncCore

extension InMemoryHypervisor {
    /// What libvirt's merge does with the CPU, NUMA, memory-backing and listen fields a spec
    /// leaves open: an update keeps the existing definition's; a new domain has none (`nil`,
    /// which the diff reads as an absent element: no features, no pins, ordinary pages).
    static func keepingOpenTuning(_ d: DomainModel, old: DomainModel?) -> DomainModel {
        var m = d
        let oldCPU = old?.cpu ?? DomainCPU()
        let oldMemory = old?.memoryTuning ?? DomainMemoryTuning()
        m.cpu.model = d.cpu.model ?? oldCPU.model
        m.cpu.features = d.cpu.features ?? oldCPU.features
        m.cpu.topology = d.cpu.topology ?? oldCPU.topology
        m.cpu.vcpuPins = d.cpu.vcpuPins ?? oldCPU.vcpuPins
        m.cpu.emulatorPin = d.cpu.emulatorPin ?? oldCPU.emulatorPin
        m.memoryTuning.numaCells = d.memoryTuning.numaCells ?? oldMemory.numaCells
        m.memoryTuning.numaTune = d.memoryTuning.numaTune ?? oldMemory.numaTune
        m.memoryTuning.hugepages = d.memoryTuning.hugepages ?? oldMemory.hugepages
        m.memoryTuning.locked = d.memoryTuning.locked ?? oldMemory.locked
        m.graphicsListen = d.graphics == .none ? nil : d.graphicsListen ?? (old?.graphics == d.graphics ? old?.graphicsListen : nil)
        return m
    }
}
