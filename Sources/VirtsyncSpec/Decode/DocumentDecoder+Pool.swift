import VirtsyncCore

extension DocumentDecoder {
    static let poolKeys = KeySet(["apiVersion", "kind", "name", "hosts", "type", "path", "volumeGroup", "devices", "adopt",
                                  "source", "autostart", "shared", "volumes", "xml"])
    /// The file systems an `fs` pool may name (`auto`: libvirt probes it).
    static let fsFormats = ["auto", "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat"]
    static let poolVolumeKeys = KeySet(["name", "size", "format", "backing", "clone", "adopt", "encryptionSecret", "image"])
    /// The formats a spec may ask for (`iso` is only for generated seed images).
    static let volumeFormats: [VolumeFormat] = [.qcow2, .raw]

    func decodePool(_ map: MapReader, header: DocumentHeader) -> PoolSpec {
        var header = header
        header.name = readName(map)
        let type = map.choice("type", PoolType.declarable)?.value
        let effectiveType = type ?? .dir
        var pool = PoolSpec(header: header, hosts: readHostList(map), hostsLocation: map.valueLocation("hosts"),
                            type: type, devices: [], volumes: [])
        pool.autostart = map.bool("autostart")
        pool.shared = map.bool("shared")
        pool.adopt = map.bool("adopt") ?? false
        pool.xml = decodeHatch(map, key: "pool", as: .pool)
        if effectiveType.hasTargetPath {
            // logical: /dev/VG; iscsi: /dev/disk/by-path, where the LUNs appear.
            pool.path = readAbsolutePath(map, "path", required: effectiveType != .logical && effectiveType != .iscsi)
        } else if map.has("path") {
            reporter.error(map.keyLocation("path"), map.keyPath("path"),
                           "\(Self.article(effectiveType)) \(effectiveType.rawValue) pool has no path in libvirt (its volumes are \(effectiveType == .rbd ? "RBD images" : "zvols under /dev/zvol"))")
        }

        if let group = map.string("volumeGroup") {
            if effectiveType != .logical {
                onlyFor(map, "volumeGroup", type: "logical")
            } else if let problem = Formats.nameProblem(group.value) {
                reporter.error(group.location, map.keyPath("volumeGroup"), problem)
            } else {
                pool.volumeGroup = group
            }
        }
        if let devices = map.stringList("devices") {
            if effectiveType != .logical {
                onlyFor(map, "devices", type: "logical")
            } else {
                for (index, device) in devices.enumerated() {
                    if let problem = Formats.absolutePathProblem(device.value) {
                        reporter.error(device.location, "\(map.keyPath("devices"))[\(index)]", problem)
                    } else {
                        pool.devices.append(device)
                    }
                }
            }
        }
        readPoolSource(map, type: effectiveType, into: &pool)

        var names: [String: SourceLocation] = [:]
        for (index, node) in (map.list("volumes") ?? []).enumerated() {
            let path = "\(map.keyPath("volumes"))[\(index)]"
            guard let volumeMap = MapReader(node, file: file, path: path, keys: Self.poolVolumeKeys, reporter: reporter) else {
                continue
            }
            if !effectiveType.createsVolumes {
                reporter.error(volumeMap.location, volumeMap.path,
                               "an iscsi pool's volumes are the target's LUNs: they cannot be created or declared (a VM uses a LUN as a network disk with protocol iscsi, or as a block disk under /dev/disk/by-path)")
                continue
            }
            let volume = decodePoolVolume(volumeMap, poolType: effectiveType)
            if let name = volume.name {
                if let first = names[name.value] {
                    reporter.error(name.location, volumeMap.keyPath("name"),
                                   "volume '\(name.value)' is declared twice in this pool (first at \(first))")
                    continue
                }
                names[name.value] = name.location
            }
            pool.volumes.append(volume)
        }
        return pool
    }

    private func onlyFor(_ map: MapReader, _ key: String, type: String) {
        reporter.error(map.keyLocation(key), map.keyPath(key), "'\(key)' is only allowed in pools of type \(type)")
    }

    private func decodePoolVolume(_ map: MapReader, poolType: PoolType) -> PoolVolumeSpec {
        let logical = poolType == .logical
        var volume = PoolVolumeSpec(path: map.path, location: map.location)
        volume.adopt = map.bool("adopt") ?? false
        if let name = map.string("name", required: true) {
            if let problem = Formats.nameProblem(name.value) {
                reporter.error(name.location, map.keyPath("name"), problem)
            }
            volume.name = name
        }
        // A volume made from an image may leave its size to the image.
        volume.size = map.size("size", required: !map.has("image"))
        volume.format = map.choice("format", Self.volumeFormats)
        volume.backing = readVolumeRef(map, "backing")
        volume.clone = readVolumeRef(map, "clone")
        if map.has("image") {
            let conflicts = ["backing", "clone", "adopt", "encryptionSecret"].filter { map.has($0) }
            for key in conflicts {
                reporter.error(map.keyLocation(key), map.keyPath(key), "a volume made from an image cannot have '\(key)'")
            }
            let image = readImage(map)
            if conflicts.isEmpty { volume.image = image }
        }
        checkVolumeSource(map, format: volume.format, backing: volume.backing, clone: volume.clone, blockPool: poolType.holdsBlockVolumes ? poolType : nil)
        if poolType == .rbd || poolType == .zfs {
            // Raw images of a size: what libvirt makes in Ceph and ZFS, tested on its test driver only.
            for key in ["clone", "image", "encryptionSecret"] where map.has(key) {
                reporter.error(map.keyLocation(key), map.keyPath(key), "a volume of \(Self.article(poolType)) \(poolType.rawValue) pool is a blank raw volume of a size: it cannot have '\(key)'")
            }
            volume.image = nil
            volume.clone = nil
        }
        if let secret = readNameRef(map, "encryptionSecret") {
            // LUKS over a blank volume only: an overlay or a copy would need the base's key too,
            // and an adopted volume is whatever it already is.
            let conflicts = ["backing", "clone", "adopt"].filter { map.has($0) }
            if map.has("image") {
                // reported with the image
            } else if let first = conflicts.first {
                reporter.error(map.keyLocation(first), map.keyPath(first), "an encrypted volume (encryptionSecret) cannot have '\(first)'")
            } else if logical {
                reporter.error(secret.location, map.keyPath("encryptionSecret"), "an encrypted volume is in a dir or netfs pool (libvirt makes logical volumes without LUKS)")
            } else if poolType == .rbd || poolType == .zfs {
                // reported above
            } else {
                volume.encryptionSecret = secret
            }
        }
        return volume
    }

    /// Rules shared by pool volumes and disks that create a volume: one source at most, an
    /// overlay is qcow2, a volume of a block pool (logical, rbd, zfs) is raw without a backing
    /// volume.
    func checkVolumeSource(_ map: MapReader, format: Located<VolumeFormat>?, backing: Located<VolumeRef>?,
                           clone: Located<VolumeRef>?, blockPool: PoolType?) {
        if backing != nil, clone != nil {
            reporter.error(map.keyLocation("clone"), map.keyPath("clone"), "'backing' and 'clone' are mutually exclusive")
        }
        if let backing, let format, format.value != .qcow2 {
            reporter.error(format.location, map.keyPath("format"),
                           "a volume with a backing volume (\(backing.value)) must be qcow2")
        }
        if let blockPool {
            if let format, format.value != .raw {
                reporter.error(format.location, map.keyPath("format"), "volumes of \(Self.article(blockPool)) \(blockPool.rawValue) pool are raw")
            }
            if backing != nil {
                reporter.error(map.keyLocation("backing"), map.keyPath("backing"),
                               "volumes of \(Self.article(blockPool)) \(blockPool.rawValue) pool cannot have a backing volume")
            }
        }
    }
}
