extension Preflight {
    /// A VM with PCI or USB host devices cannot leave its host: QEMU cannot migrate a device
    /// that is the host's own hardware, and another host has other hardware at that address.
    /// `nil` (no check listed) when neither the spec nor the running definition has any.
    static func hostDevices(vm: DomainModel, seen: ObservedDomain, from: String) -> PreflightCheck? {
        let devices = Set(vm.platform.passedThrough.map(\.description) + seen.model.platform.passedThrough.map(\.description)).sorted()
        guard !devices.isEmpty else { return nil }
        return PreflightCheck(name: "host devices", passed: false,
                              detail: "\(devices.joined(separator: ", ")) belong\(devices.count == 1 ? "s" : "") to \(from): "
                                  + "a VM with host devices is pinned to its host and cannot migrate (give it 'host' and 'onMaintenance: shutdown')")
    }
}
