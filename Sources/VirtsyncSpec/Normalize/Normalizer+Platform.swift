import VirtsyncCore

extension Normalizer {
    /// What maintenance of its host does to a VM the spec does not say it for: a VM with host
    /// devices cannot migrate, so it shuts down; every other VM migrates.
    static func defaultMaintenance(_ vm: MachineSpec) -> MaintenancePolicy {
        vm.platform.hostDevices?.isEmpty == false ? .shutdown : .migrate
    }
}
