import VirtsyncCore
import Yams

extension DocumentDecoder {
    static let machineKeys = KeySet([
        "apiVersion", "kind", "name", "host", "placement", "onMaintenance", "ha", "failback", "uuid", "vcpus", "maxVcpus", "memory",
        "maxMemory", "machine", "firmware", "loader", "cpu", "power", "autostart", "restartForUpdates", "restartPolicy", "maxRestarts",
        "restartWindow", "graphics", "console", "numa", "memoryBacking", "iothreads",
        "disks", "interfaces", "cloudInit", "xml", "adopt",
    ] + platformKeys)
    static let diskKeys = KeySet(["volume", "file", "block", "network", "size", "format", "backing", "clone", "existing", "bus", "target",
                                  "cdrom", "readonly"] + diskOptionKeys)
    static let interfaceKeys = KeySet(["network", "bridge", "direct", "mac", "model", "link"] + interfaceOptionKeys)
    static let xmlKeys = KeySet(["devices", "domain"])
    static let placementKeys = KeySet(["hosts", "labels", "affinity", "antiAffinity"])
    /// Most vCPUs a VM may have (libvirt/QEMU's own limits are lower on most machines).
    static let maxVcpuCount = 4096
    /// `maxRestarts`: at least one, at most a hundred restarts per window.
    static let maxRestartsRange = 1...100
    /// `restartWindow`: one minute to one day, in seconds.
    static let restartWindowRange: ClosedRange<Double> = 60...86_400
    /// `ha: true` with `autostart: true`: why it is refused and what to do.
    static let haAutostartMessage = "an HA VM never uses libvirt autostart: HA starts it on the host that owns it, and autostart "
        + "would start a stale copy on a host that reboots after the VM was restarted elsewhere; remove 'autostart' (HA keeps the VM running)"

    func decodeMachine(_ map: MapReader, header: DocumentHeader) -> MachineSpec {
        var header = header
        header.name = readName(map)
        var vm = MachineSpec(header: header, disks: [], interfaces: [])
        vm.host = readNameRef(map, "host")
        vm.hostWritten = map.has("host")
        if let placement = map.map("placement", keys: Self.placementKeys) {
            var spec = PlacementSpec(path: placement.path, location: placement.location)
            spec.hosts = readHostList(placement)
            if let hosts = spec.hosts, hosts.isEmpty {
                reporter.error(placement.valueLocation("hosts"), placement.keyPath("hosts"),
                               "an empty list allows no host; name at least one, or leave 'hosts' out to allow every host")
            }
            spec.labels = readLabels(placement, "labels")
            spec.affinity = placement.stringList("affinity") ?? []
            spec.antiAffinity = placement.stringList("antiAffinity") ?? []
            if vm.hostWritten {
                reporter.error(placement.location, placement.path,
                               "a VM gives either 'host' (pinned) or 'placement' (constraints), not both")
            }
            vm.placement = spec
        }
        vm.onMaintenance = map.choice("onMaintenance", MaintenancePolicy.allCases)?.value
        vm.ha = map.bool("ha")
        vm.failback = map.bool("failback").map { Located($0, map.keyLocation("failback")) }
        vm.adopt = map.bool("adopt") ?? false
        if let uuid = map.string("uuid") {
            if let normalized = Formats.normalizedUUID(uuid.value) {
                vm.uuid = Located(normalized, uuid.location)
            } else {
                reporter.error(uuid.location, map.keyPath("uuid"),
                               "\(uuid.value.quotedForMessage) is not a UUID such as 4f6b0c56-2a1e-4e1a-9f51-2d7c3b1e8a90")
            }
        }
        vm.vcpus = map.int("vcpus", range: 1...Self.maxVcpuCount)
        vm.maxVcpus = map.int("maxVcpus", range: 1...Self.maxVcpuCount)
        if let vcpus = vm.vcpus, let maxVcpus = vm.maxVcpus, maxVcpus.value < vcpus.value {
            reporter.error(maxVcpus.location, map.keyPath("maxVcpus"), "maxVcpus \(maxVcpus.value) is below vcpus \(vcpus.value)")
        }
        vm.memory = readMemory(map, "memory", required: true)
        vm.maxMemory = readMemory(map, "maxMemory")
        if let memory = vm.memory, let maxMemory = vm.maxMemory, maxMemory.value < memory.value {
            reporter.error(maxMemory.location, map.keyPath("maxMemory"), "maxMemory \(maxMemory.value) is below memory \(memory.value)")
        }
        if let machine = map.string("machine") {
            if let problem = Formats.tokenProblem(machine.value) {
                reporter.error(machine.location, map.keyPath("machine"), "machine type \(problem)")
            } else {
                vm.machine = machine
            }
        }
        vm.firmware = map.choice("firmware", Firmware.allCases)?.value
        vm.loader = readAbsolutePath(map, "loader")
        decodeCPU(map, into: &vm)
        vm.power = map.choice("power", PowerState.allCases)?.value
        if vm.ha == true, vm.power == .paused {
            reporter.error(map.valueLocation("power"), map.keyPath("power"), Self.haPausedMessage)
        }
        vm.autostart = map.bool("autostart")
        if vm.ha == true, vm.autostart == true {
            // libvirt would start the copy on a host that boots, whoever owns the VM by then.
            reporter.error(map.valueLocation("autostart"), map.keyPath("autostart"), Self.haAutostartMessage)
        }
        vm.restartForUpdates = map.bool("restartForUpdates")
        vm.restartPolicy = map.choice("restartPolicy", RestartPolicy.Mode.allCases)?.value
        vm.maxRestarts = map.int("maxRestarts", range: Self.maxRestartsRange)?.value
        vm.restartWindow = map.duration("restartWindow", range: Self.restartWindowRange)?.value
        if vm.restartPolicy == .never {
            // Limits of restarts that never happen: most likely the policy is not what was meant.
            for key in ["maxRestarts", "restartWindow"] where map.has(key) {
                reporter.warning(map.keyLocation(key), map.keyPath(key), "'\(key)' has no effect with restartPolicy never")
            }
        }
        decodeGraphics(map, into: &vm)
        decodeMemoryTuning(map, into: &vm)
        vm.console = map.bool("console")
        decodePlatform(map, into: &vm)
        decodeDisks(map, into: &vm)
        decodeIOThreads(map, into: &vm)
        for (index, node) in (map.list("interfaces") ?? []).enumerated() {
            let path = "\(map.keyPath("interfaces"))[\(index)]"
            if let nic = MapReader(node, file: file, path: path, keys: Self.interfaceKeys, reporter: reporter) {
                vm.interfaces.append(decodeInterface(nic))
            }
        }
        if let cloudInit = map.map("cloudInit", keys: Self.cloudInitKeys) {
            vm.cloudInit = decodeCloudInit(cloudInit)
        }
        if let xml = map.map("xml", keys: Self.xmlKeys) {
            let devices = xml.string("devices"), domain = xml.string("domain")
            vm.xmlDevices = devices?.value
            vm.xmlDomain = domain?.value
            vm.xmlDevicesAt = devices?.location
            vm.xmlDomainAt = domain?.location
            // The escape hatch is for what the model does not cover, and must reach libvirt as
            // what it says: parsed strictly, owned elements refused at any depth.
            for (fragment, key, field) in [(devices, "devices", EscapeHatch.Field.devices), (domain, "domain", .domain)] {
                guard let fragment else { continue }
                for problem in EscapeHatch.check(fragment.value, as: field) {
                    reporter.error(fragment.location, xml.keyPath(key), problem.description)
                }
            }
        }
        return vm
    }

    /// A memory size: at least 1 MiB, a whole number of KiB (libvirt's unit).
    private func readMemory(_ map: MapReader, _ key: String, required: Bool = false) -> Located<ByteSize>? {
        guard let size = map.size(key, required: required) else { return nil }
        if size.value.bytes % 1024 != 0 {
            reporter.error(size.location, map.keyPath(key), "\(key) must be a whole number of KiB")
            return nil
        }
        if size.value < .mib(1) {
            reporter.error(size.location, map.keyPath(key), "\(key) \(size.value) is below 1MiB")
            return nil
        }
        return size
    }

    private func decodeDisks(_ map: MapReader, into vm: inout MachineSpec) {
        var targets: [String: SourceLocation] = [:]
        var sources: [String: SourceLocation] = [:]
        for (index, node) in (map.list("disks") ?? []).enumerated() {
            let path = "\(map.keyPath("disks"))[\(index)]"
            guard let diskMap = MapReader(node, file: file, path: path, keys: Self.diskKeys, reporter: reporter) else { continue }
            let disk = decodeDisk(diskMap)
            if let target = disk.target {
                if let first = targets[target.value] {
                    reporter.error(target.location, diskMap.keyPath("target"), "target \(target.value) is also used by the disk at \(first)")
                } else {
                    targets[target.value] = target.location
                }
            }
            let source = disk.volume.map { ("volume \($0.value)", $0.location) } ?? disk.file.map { ("file \($0.value)", $0.location) }
                ?? disk.block.map { ("block device \($0.value)", $0.location) }
            if let (key, location) = source {
                if let first = sources[key] {
                    reporter.error(location, path, "\(key) is attached twice to this VM (first at \(first))")
                } else {
                    sources[key] = location
                }
            }
            vm.disks.append(disk)
        }
    }

    private func decodeDisk(_ map: MapReader) -> DiskSpec {
        var disk = DiskSpec(path: map.path, location: map.location, createsVolume: map.has("size"), cdrom: map.bool("cdrom") ?? false,
                            readonly: map.bool("readonly"), existing: map.bool("existing") ?? false)
        disk.volume = readVolumeRef(map, "volume")
        disk.file = readAbsolutePath(map, "file")
        disk.block = readAbsolutePath(map, "block")
        disk.network = readNetworkDisk(map)
        disk.size = map.size("size")
        disk.format = map.choice("format", Self.volumeFormats)
        disk.backing = readVolumeRef(map, "backing")
        disk.clone = readVolumeRef(map, "clone")
        disk.bus = map.choice("bus", DiskBus.allCases)?.value
        disk.busAt = map.has("bus") ? map.valueLocation("bus") : nil
        disk.options = readDiskOptions(map)
        disk.iothreadAt = map.has("iothread") ? map.valueLocation("iothread") : nil
        if let target = map.string("target") {
            if let problem = Formats.targetProblem(target.value) {
                reporter.error(target.location, map.keyPath("target"), problem)
            } else {
                disk.target = target
            }
        }
        let given = ["volume", "file", "block", "network"].filter { map.has($0) }
        switch given.count {
        case 0:
            reporter.error(map.location, map.path, "a disk needs 'volume' (pool/volume), 'file' (a host path), 'block' (a host device) or 'network' (rbd, iscsi, nbd)")
        case 1:
            break
        default:
            reporter.error(map.keyLocation(given[1]), map.path, "a disk has one of 'volume', 'file', 'block' and 'network', not '\(given[0])' and '\(given[1])'")
        }
        if let kind = given.first(where: { $0 != "volume" }) {
            for key in ["size", "format", "backing", "clone", "existing"] where map.has(key) {
                reporter.error(map.keyLocation(key), map.keyPath(key), "'\(key)' applies to volume disks, not to '\(kind)' disks")
            }
        } else if disk.existing {
            for key in ["size", "format", "backing", "clone"] where map.has(key) {
                reporter.error(map.keyLocation(key), map.keyPath(key),
                               "'\(key)' creates a volume; an 'existing: true' disk uses one that virtsync does not manage")
            }
        } else if !map.has("size") {
            for key in ["format", "backing", "clone"] where map.has(key) {
                reporter.error(map.keyLocation(key), map.keyPath(key),
                               "'\(key)' applies only when the disk creates its volume (give it a 'size')")
            }
        }
        checkVolumeSource(map, format: disk.format, backing: disk.backing, clone: disk.clone, blockPool: nil)
        if disk.cdrom, disk.bus == .virtio {
            reporter.error(map.keyLocation("bus"), map.keyPath("bus"), "a CD-ROM cannot use the virtio bus; use sata, scsi, virtio-scsi or ide")
        }
        return disk
    }

    private func decodeInterface(_ map: MapReader) -> InterfaceSpec {
        var nic = InterfaceSpec(path: map.path, location: map.location, linkUp: true)
        nic.network = readNameRef(map, "network")
        if let bridge = map.string("bridge") {
            if let problem = Formats.bridgeProblem(bridge.value) {
                reporter.error(bridge.location, map.keyPath("bridge"), problem)
            } else {
                nic.bridge = bridge
            }
        }
        nic.direct = readDirect(map)
        let sources = ["network", "bridge", "direct"].filter { map.has($0) }
        if sources == ["network", "bridge"] {
            reporter.error(map.keyLocation("bridge"), map.path, "an interface has either 'network' or 'bridge', not both")
        } else if sources.count > 1 {
            reporter.error(map.keyLocation(sources[1]), map.path, "an interface has one of 'network', 'bridge' or 'direct', not '\(sources[0])' and '\(sources[1])'")
        } else if sources.isEmpty {
            reporter.error(map.location, map.path, "an interface needs 'network' (a Network of the spec), 'bridge' (a host bridge) or 'direct' (a host device through macvtap)")
        }
        if let mac = map.string("mac") {
            if let normalized = Formats.normalizedMAC(mac.value) {
                nic.mac = Located(normalized, mac.location)
            } else {
                reporter.error(mac.location, map.keyPath("mac"), Self.macMessage(mac.value))
            }
        }
        if let model = map.string("model") {
            if let problem = Formats.tokenProblem(model.value) {
                reporter.error(model.location, map.keyPath("model"), "model \(problem)")
            } else {
                nic.model = model
            }
        }
        if let link = map.choice("link", LinkState.allCases) {
            nic.linkUp = link.value == .up
        }
        var source: InterfaceSource?
        if sources.count == 1 {
            if let network = nic.network { source = .network(network.value) }
            if let bridge = nic.bridge { source = .bridge(bridge.value) }
            if let direct = nic.direct { source = direct.value }
        }
        nic.options = readInterfaceOptions(map, source: source, model: nic.model?.value ?? "virtio")
        if let group = nic.options?.portgroup { nic.portgroup = Located(group, map.valueLocation("portgroup")) }
        return nic
    }
}

/// `link:` of an interface.
enum LinkState: String, CaseIterable, Sendable {
    case up, down
}
