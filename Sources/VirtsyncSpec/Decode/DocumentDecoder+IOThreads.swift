import VirtsyncCore

/// `iothreads` of a VM and `iothread` of its disks: I/O threads run a disk's I/O outside QEMU's
/// main loop. A virtio disk names its own; virtio-scsi disks share their controller, so they
/// name the same one.
extension DocumentDecoder {
    /// Most I/O threads a VM may have (one per disk is the most that helps).
    static let maxIOThreads = 64

    func decodeIOThreads(_ map: MapReader, into vm: inout MachineSpec) {
        let count = map.int("iothreads", range: 0...Self.maxIOThreads)
        vm.cpuTuning.iothreads = count?.value
        var controllerThread: (thread: Int, at: SourceLocation)?
        for disk in vm.disks {
            let bus = disk.bus ?? (disk.cdrom ? .sata : .virtio)
            guard let thread = disk.options?.iothread, let at = disk.iothreadAt else { continue }
            let path = "\(disk.path).iothread"
            if !bus.takesIOThread {
                reporter.error(at, path, "iothread applies to virtio and virtio-scsi disks, not to a \(bus.rawValue) disk")
            } else if count == nil && !map.has("iothreads") {
                reporter.error(at, path, "iothread \(thread) needs the VM's 'iothreads' (the number of I/O threads, e.g. iothreads: \(thread))")
            } else if let count, thread > count.value {
                reporter.error(at, path, "iothread \(thread) is beyond the VM's iothreads: \(count.value) (threads are numbered 1 to \(count.value))")
            } else if bus == .virtioScsi {
                if let first = controllerThread, first.thread != thread {
                    reporter.error(at, path, "virtio-scsi disks share one controller and its I/O thread: iothread \(thread) differs "
                                   + "from iothread \(first.thread) at \(first.at)")
                } else if controllerThread == nil {
                    controllerThread = (thread, at)
                }
            }
        }
        // One SCSI controller (index 0) serves both buses: it is either virtio-scsi or libvirt's own.
        var firstSCSI: (bus: DiskBus, at: SourceLocation)?
        for disk in vm.disks {
            guard let bus = disk.bus, bus == .scsi || bus == .virtioScsi, let at = disk.busAt else { continue }
            if let first = firstSCSI, first.bus != bus {
                reporter.error(at, "\(disk.path).bus", "a VM's SCSI disks share one controller, so they are all 'scsi' or all "
                               + "'virtio-scsi': this one is \(bus.rawValue), the one at \(first.at) is \(first.bus.rawValue)")
            } else if firstSCSI == nil {
                firstSCSI = (bus, at)
            }
        }
    }
}
