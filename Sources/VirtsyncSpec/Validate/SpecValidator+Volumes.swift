import VirtsyncCore

extension SpecValidator {
    /// Collects every managed volume per host, and checks that each is declared once, that disks
    /// refer to volumes that exist, and that backing and clone sources exist and form no cycle.
    mutating func buildVolumeTable() {
        addPoolVolumes()
        addDiskVolumes()
        checkDiskVolumesExist()
        checkSources()
        checkSharedAttachments()
    }

    private static func source(backing: Located<VolumeRef>?, clone: Located<VolumeRef>?) -> VolumeSource {
        if let backing { return .backing(pool: backing.value.pool, volume: backing.value.volume) }
        if let clone { return .clone(pool: clone.value.pool, volume: clone.value.volume) }
        return .blank
    }

    private mutating func addPoolVolumes() {
        for (position, pool) in spec.pools.enumerated() {
            guard let poolName = pool.header.name?.value, index.poolsByName[poolName] == position else { continue }
            let defaultFormat: VolumeFormat = (pool.type ?? .dir).holdsBlockVolumes ? .raw : .qcow2
            for volume in pool.volumes {
                // Without a size, a volume made from an image is as large as the image (0 here).
                guard let name = volume.name, let size = volume.size?.value ?? volume.image.map({ _ in ByteSize(bytes: 0) }) else { continue }
                let model = VolumeModel(pool: poolName, name: name.value, capacity: size,
                                        format: volume.format?.value ?? defaultFormat,
                                        source: volume.image.map { .image($0.value) } ?? Self.source(backing: volume.backing, clone: volume.clone),
                                        encryption: volume.encryptionSecret.map { _ in SecretObjectModel.uuid(consumer: "\(poolName)/\(name.value)") })
                let entry = VolumeEntry(model: model, location: name.location, path: volume.path,
                                        sourceRef: volume.backing ?? volume.clone,
                                        sourcePath: volume.path + (volume.backing != nil ? ".backing" : ".clone"))
                for host in index.poolHosts[position] {
                    index.volumes[VolumeKey(host: host, pool: poolName, volume: name.value)] = entry
                }
            }
        }
    }

    private mutating func addDiskVolumes() {
        for (position, vm) in spec.machines.enumerated() {
            guard let host = index.machineHosts[position] else { continue }
            for disk in vm.disks {
                guard let ref = disk.volume, let size = disk.size, index.pool(ref.value.pool, isOn: host),
                      let poolIndex = index.poolsByName[ref.value.pool] else { continue }
                let type = spec.pools[poolIndex].type ?? .dir
                let logical = type.holdsBlockVolumes
                if !type.createsVolumes {
                    reporter.error(size.location, disk.path + ".size",
                                   "pool \(ref.value.pool) is an iscsi pool: its volumes are the target's LUNs and cannot be created (use the LUN as a network disk with protocol iscsi, or as a block disk under /dev/disk/by-path)")
                    continue
                }
                if logical, let format = disk.format, format.value != .raw {
                    reporter.error(format.location, disk.path + ".format", "volumes of \(DocumentDecoder.article(type)) \(type.rawValue) pool are raw")
                }
                if logical, let backing = disk.backing {
                    reporter.error(backing.location, disk.path + ".backing", "volumes of \(DocumentDecoder.article(type)) \(type.rawValue) pool cannot have a backing volume")
                }
                if type == .rbd || type == .zfs, let clone = disk.clone {
                    reporter.error(clone.location, disk.path + ".clone", "a volume of \(DocumentDecoder.article(type)) \(type.rawValue) pool is a blank raw volume of a size: it cannot be a clone")
                }
                let key = VolumeKey(host: host, pool: ref.value.pool, volume: ref.value.volume)
                if let other = index.volumes[key] {
                    reporter.error(ref.location, disk.path + ".volume",
                                   "volume \(ref.value) is also declared by \(other.path) at \(other.location); declare each volume once (a disk with a size creates its volume)")
                    continue
                }
                let model = VolumeModel(pool: ref.value.pool, name: ref.value.volume, capacity: size.value,
                                        format: disk.format?.value ?? (logical ? .raw : .qcow2),
                                        source: Self.source(backing: disk.backing, clone: disk.clone))
                index.volumes[key] = VolumeEntry(model: model, location: ref.location, path: disk.path,
                                                 sourceRef: disk.backing ?? disk.clone,
                                                 sourcePath: disk.path + (disk.backing != nil ? ".backing" : ".clone"))
            }
        }
    }

    private func checkDiskVolumesExist() {
        guard !spec.incomplete else { return }
        for (position, vm) in spec.machines.enumerated() {
            guard let host = index.machineHosts[position] else { continue }
            for disk in vm.disks where !disk.createsVolume && !disk.existing {
                guard let ref = disk.volume, index.pool(ref.value.pool, isOn: host) else { continue }
                let key = VolumeKey(host: host, pool: ref.value.pool, volume: ref.value.volume)
                if index.volumes[key] == nil {
                    reporter.error(ref.location, disk.path + ".volume",
                                   "volume \(ref.value) does not exist on host \(host): declare it in StoragePool[\(ref.value.pool)].volumes, give this disk a size to create it, or set existing: true for a volume virtsync does not manage")
                }
            }
        }
    }

    /// Backing and clone sources exist on the same host, and no chain of them loops.
    private func checkSources() {
        guard !spec.incomplete else { return }
        var reported = Set<String>()
        let keys = index.volumes.keys.sorted { ($0.host, $0.pool, $0.volume) < ($1.host, $1.pool, $1.volume) }
        for key in keys {
            guard let entry = index.volumes[key], let ref = entry.sourceRef, !reported.contains(entry.path) else { continue }
            let target = VolumeKey(host: key.host, pool: ref.value.pool, volume: ref.value.volume)
            guard index.volumes[target] != nil else {
                reported.insert(entry.path)
                reporter.error(ref.location, entry.sourcePath,
                               "volume \(ref.value) does not exist on host \(key.host); a backing or clone source must be a volume of the spec on the same host")
                continue
            }
            var seen: Set<VolumeKey> = [key]
            var current = target
            while let next = index.volumes[current]?.sourceRef {
                if current == key || !seen.insert(current).inserted { break }
                current = VolumeKey(host: key.host, pool: next.value.pool, volume: next.value.volume)
            }
            if current == key {
                reported.insert(entry.path)
                reporter.error(ref.location, entry.sourcePath,
                               "volume \(key.pool)/\(key.volume) depends on itself through its backing or clone sources")
            }
        }
    }

    /// Two VMs writing one volume corrupt it: warn unless both attach it read-only.
    private func checkSharedAttachments() {
        var attached: [VolumeKey: (path: String, readonly: Bool, machine: Int)] = [:]
        for (position, vm) in spec.machines.enumerated() {
            guard let host = index.machineHosts[position] else { continue }
            for disk in vm.disks {
                guard let ref = disk.volume else { continue }
                let key = VolumeKey(host: host, pool: ref.value.pool, volume: ref.value.volume)
                let readonly = disk.readonly ?? disk.cdrom
                if let other = attached[key] {
                    // The same VM twice is already an error of its own.
                    if other.machine != position, !(readonly && other.readonly) {
                        reporter.warning(ref.location, disk.path + ".volume",
                                         "volume \(ref.value) is also attached by \(other.path); unless both disks are readonly, two VMs may write it at once")
                    }
                } else {
                    attached[key] = (disk.path, readonly, position)
                }
            }
        }
    }
}
