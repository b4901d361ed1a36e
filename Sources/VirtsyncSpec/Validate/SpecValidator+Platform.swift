import VirtsyncCore

extension SpecValidator {
    /// In a spec of several hosts, a VM with PCI or USB host devices is tied to the host that
    /// has them: it must name that host (not `placement`), and maintenance shuts it down instead of migrating it
    /// (the migration pre-flight would refuse the move anyway).
    func checkHostDevicePinning() {
        guard index.hostNames.count > 1 else { return }
        for vm in spec.machines {
            guard let location = vm.hostDevicesAt else { continue }
            let path = vm.header.path + ".hostDevices"
            if vm.placement != nil {
                // (A VM with neither is reported as missing 'host' already.)
                reporter.error(location, path, "a VM with host devices cannot move between hosts: pin it with 'host' (the host that has the devices) instead of 'placement'")
            }
            if vm.onMaintenance == .migrate {
                reporter.error(location, path, "a VM with host devices cannot migrate; use onMaintenance: shutdown (the default for such a VM)")
            }
        }
    }

    /// A boot order that names a device class the VM does not have boots from nothing there:
    /// most likely a CD-ROM or interface that was meant to be in the spec (a warning).
    func checkBootOrder() {
        for vm in spec.machines {
            guard let order = vm.platform.bootOrder, let location = vm.bootOrderAt else { continue }
            let path = vm.header.path + ".boot.order"
            if order.contains(.cdrom), !vm.disks.contains(where: \.cdrom), vm.cloudInit == nil {
                reporter.warning(location, path, "the boot order names cdrom, but the VM has no CD-ROM")
            }
            if order.contains(.network), vm.interfaces.isEmpty {
                reporter.warning(location, path, "the boot order names network, but the VM has no interface")
            }
            if order.contains(.disk), !vm.disks.contains(where: { !$0.cdrom }) {
                reporter.warning(location, path, "the boot order names disk, but the VM has no disk")
            }
        }
    }
}
