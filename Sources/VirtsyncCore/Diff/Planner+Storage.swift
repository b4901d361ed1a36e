extension PlanBuilder {
    /// Pools and volumes of one host.
    mutating func planStorage(host: DesiredHost, live: ObservedHost, usage: HostUsage) {
        for pool in host.pools {
            let ref = ResourceRef(kind: .pool, host: host.name, name: pool.name)
            guard let seen = live.pools[pool.name] else {
                // iSCSI pools share /dev/disk/by-path; rbd and zfs pools have no path.
                if pool.type != .iscsi, pool.type.hasTargetPath,
                   let other = live.pools.values.first(where: { normalizePath($0.model.path) == normalizePath(pool.path) }) {
                    note(.error, ref, "pool \(pool.name) cannot be created: its path \(pool.path) is the path of pool \(other.model.name) (libvirt refuses two pools on one directory)")
                }
                add(PlanStep(action: .create, resource: ref,
                             changes: poolFields(nil, pool) + HatchDiff.creation(Hatch.leaves(pool.extraXML, in: .pool), document: .pool),
                             disruption: .none,
                             reason: "in the spec, not on the host", payload: .pool(pool)))
                continue
            }
            var changes = poolFields(seen.model, pool)
            // libvirt applies a pool's definition when it starts: raw XML changes restart it.
            changes += hatchFields(pool.extraXML, seen.hatch, document: .pool, disruption: seen.active ? .restart : .none)
            let drift = changes.isEmpty ? "" : " (differs in: \(changes.map(\.field).joined(separator: ", ")))"
            guard ownedOrAdopted(seen.claim(by: owner), ref: ref, noun: "pool \(pool.name)", differences: changes.map(\.field),
                                 payload: .adopted(uuid: seen.uuid),
                                 unmanaged: "pool \(pool.name) exists and is not managed by virtsync; used as it is, never changed\(drift)") else {
                continue
            }
            if changes.contains(where: { $0.disruption == .replace }) {
                add(PlanStep(action: .replace, resource: ref, changes: changes, disruption: .replace,
                             reason: "type, path or source changed: the pool is redefined (its data is kept)", payload: .pool(pool)))
            } else if !changes.isEmpty {
                let worst = changes.map(\.disruption).max() ?? .none
                add(PlanStep(action: .update, resource: ref, changes: changes, disruption: worst,
                             reason: worst == .restart ? "raw XML changed: the pool is stopped and started again with the new definition (libvirt applies it at start; a dir pool's files stay open for running guests)" : "settings changed",
                             payload: .pool(pool)))
            }
            if !seen.active, !changes.contains(where: { $0.disruption == .replace }) {
                add(PlanStep(action: .start, resource: ref, disruption: .none, reason: "pool is inactive"))
            }
        }
        for name in live.pools.keys.sorted() where host.pools.first(where: { $0.name == name }) == nil {
            guard let seen = live.pools[name] else { continue }
            switch seen.claim(by: owner) {
            case .ours: break
            case .unowned: unownedOutsideSpec(ResourceRef(kind: .pool, host: host.name, name: name), noun: "pool \(name)"); continue
            case .other, .unmanaged: continue
            }
            let blockers = usage.users(ofPool: name).filter { dom in
                stillUses(dom, in: host) { usage.volumes(of: $0).contains { $0.hasPrefix(name + "/") } }
            }
            if !blockers.isEmpty {
                note(.info, ResourceRef(kind: .pool, host: host.name, name: name),
                     "pool \(name) is no longer in the spec; kept while domain \(blockers.map(\.model.name).sorted().joined(separator: ", ")) uses it")
                continue
            }
            removed(ResourceRef(kind: .pool, host: host.name, name: name), disruption: seen.active ? .stop : .none,
                    detail: "the pool is undefined, its directory and data are left in place")
        }
        planVolumes(host: host, live: live, usage: usage)
    }

    private func poolFields(_ before: PoolModel?, _ after: PoolModel) -> [FieldChange] {
        var fields = FieldList(creating: before == nil)
        fields.compare("type", before?.type.rawValue, after.type.rawValue, .replace)
        if after.type.hasTargetPath {
            fields.compare("path", before.map { normalizePath($0.path) }, normalizePath(after.path), .replace)
        }
        if after.type == .logical {
            fields.compare("volumeGroup", before?.volumeGroup ?? before?.name, after.volumeGroup ?? after.name, .replace)
            fields.compare("devices", before?.devices.joined(separator: ","), after.devices.joined(separator: ","), .replace)
        }
        if after.type == .netfs {
            fields.compare("source.host", before?.sourceHost, after.sourceHost, .replace)
            fields.compare("source.dir", before?.sourceDir, after.sourceDir, .replace)
        }
        if after.type == .fs {
            fields.compare("source.device", before?.devices.first, after.devices.first, .replace)
            // Left out: whatever libvirt probes is as asked.
            if let format = after.sourceFormat { fields.compare("source.format", before?.sourceFormat ?? "auto", format, .replace) }
        }
        if after.type == .iscsi || after.type == .rbd || after.type == .zfs { networkSourceFields(before, after, into: &fields) }
        fields.compare("autostart", before.map { String($0.autostart) }, String(after.autostart), .none)
        return fields.changes
    }

    private mutating func planVolumes(host: DesiredHost, live: ObservedHost, usage: HostUsage) {
        let wanted = Dictionary(host.volumes.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for volume in host.volumes {
            let ref = ResourceRef(kind: .volume, host: host.name, name: volume.key)
            if let pool = live.pools[volume.pool], !pool.active, !pool.claim(by: owner).isOurs {
                note(.warning, ref, "pool \(volume.pool) is not active and not managed by virtsync; volume \(volume.name) cannot be checked")
                continue
            }
            guard let seen = live.volumes[volume.key] else {
                var fields = [FieldChange(field: "size", before: nil, after: volume.capacity, disruption: .none),
                              FieldChange(field: "format", before: nil, after: volume.format.rawValue, disruption: .none)]
                switch volume.source {
                case .backing(let p, let v): fields.append(FieldChange(field: "backing", before: nil, after: "\(p)/\(v)", disruption: .none))
                case .clone(let p, let v): fields.append(FieldChange(field: "clone", before: nil, after: "\(p)/\(v)", disruption: .none))
                case .generated: fields = [FieldChange(field: "content", before: nil, after: "cloud-init seed (\(volume.capacity))", disruption: .none)]
                case .image(let image): fields = Self.imageFields(volume, image)
                case .blank: break
                }
                if volume.encryption != nil { fields.append(FieldChange(field: "encryption", before: nil, after: "luks", disruption: .none)) }
                add(PlanStep(action: .create, resource: ref, changes: fields, disruption: .none,
                             reason: "in the spec, not on the host", payload: .volume(volume)))
                continue
            }
            let claim = seen.claim(by: owner)
            if claim.isOurs && seen.unconfirmed {
                switch volume.source {
                case .generated, .clone, .image:
                    // An interrupted apply may have left the upload or the copy half done.
                    add(PlanStep(action: .delete, resource: ref, disruption: .none,
                                 reason: "created by an interrupted apply; its content may be incomplete, so it is made again"))
                    add(PlanStep(action: .create, resource: ref, changes: [FieldChange(field: "content", before: "unconfirmed", after: "made again", disruption: .none)],
                                 disruption: .none, reason: "made again after an interrupted apply", payload: .volume(volume)))
                    continue
                case .blank, .backing:
                    break   // nothing in them yet: as good as confirmed
                }
            }
            if case .generated = volume.source, claim.isOurs { continue } // named by content digest: present means equal
            if case .image(let image) = volume.source, claim.isOurs, let made = seen.imageDigest, made != image.sha256 {
                note(.warning, ref, "volume \(volume.key) was made from the image with sha256 \(made.prefix(12)); the spec now names \(image.shortDigest). A volume is never made again from a new image (its data would be lost): give the volume a new name to use the new image")
            }
            var differences: [String] = []
            // A volume made from an image without a size is as large as the image: no size to check.
            let sized = volume.capacity.bytes > 0
            if sized && seen.model.capacity < volume.capacity { differences.append("size") }
            if seen.model.format != volume.format { differences.append("format") }
            if claim == .unmanaged && differences.isEmpty && !adopt.contains(AdoptKey(.volume, volume.key)) { continue }
            guard ownedOrAdopted(claim, ref: ref, noun: "volume \(volume.key)", differences: differences,
                                 payload: .adopted(uuid: seen.path),
                                 unmanaged: "volume \(volume.key) exists and is not managed by virtsync (\(seen.model.capacity) \(seen.model.format.rawValue)); used as it is") else {
                continue
            }
            if seen.model.format != volume.format {
                note(.error, ref, "volume \(volume.key) is \(seen.model.format.rawValue), the spec says \(volume.format.rawValue); a format cannot change in place and virtsync never replaces a disk (give the volume a new name)")
            }
            if (seen.model.encryption == nil) != (volume.encryption == nil) {
                note(.error, ref, seen.model.encryption == nil
                     ? "volume \(volume.key) exists unencrypted and the spec encrypts it; virtsync does not encrypt a volume in place (give the encrypted volume a new name)"
                     : "volume \(volume.key) is encrypted and the spec does not say so; virtsync does not decrypt a volume (keep encryptionSecret)")
            }
            // libvirt rounds sizes up (qcow2 to 512 bytes, LVM to whole extents, clones to the
            // source's size): a volume up to `sizeSlack` larger than asked is as asked.
            let slack = ByteSize.mib(4)
            let runningUsers = usage.users(ofVolume: volume.key).filter { $0.state.isActive }.map(\.model.name).sorted()
            if !sized {
                // nothing to grow or shrink
            } else if volume.capacity > seen.model.capacity, runningUsers.count == 1,
                      let type = live.pools[volume.pool]?.model.type, type.holdsFiles {
                // QEMU grows an image it has open (virDomainBlockResize); the guest sees the
                // larger disk at once and grows its file system when it is told to.
                add(PlanStep(action: .update, resource: ref,
                             changes: [FieldChange(field: "size", before: seen.model.capacity, after: volume.capacity, disruption: .live)],
                             disruption: .live, reason: "grown in the spec; grown live through running domain \(runningUsers[0])",
                             payload: .volume(volume)))
            } else if volume.capacity > seen.model.capacity, !runningUsers.isEmpty {
                let why = runningUsers.count > 1 ? "it is attached to more than one running domain" : "a logical volume is not grown under a running guest"
                note(.info, ref, "volume \(volume.key) grows from \(seen.model.capacity) to \(volume.capacity) once domain \(runningUsers.joined(separator: ", ")) is stopped (\(why))")
            } else if volume.capacity > seen.model.capacity {
                add(PlanStep(action: .update, resource: ref,
                             changes: [FieldChange(field: "size", before: seen.model.capacity, after: volume.capacity, disruption: .none)],
                             disruption: .none, reason: "grown in the spec (no running domain uses it)", payload: .volume(volume)))
            } else if seen.model.capacity.bytes > volume.capacity.bytes + slack.bytes {
                note(.error, ref, "volume \(volume.key) would shrink from \(seen.model.capacity) to \(volume.capacity): refused, shrinking loses data (the volume is kept at its size)")
            }
        }
        // Managed volumes that left the spec.
        for key in live.volumes.keys.sorted() where wanted[key] == nil {
            guard let seen = live.volumes[key] else { continue }
            switch seen.claim(by: owner) {
            case .ours: break
            case .unowned: unownedOutsideSpec(ResourceRef(kind: .volume, host: host.name, name: key), noun: "volume \(key)"); continue
            case .other, .unmanaged: continue
            }
            let ref = ResourceRef(kind: .volume, host: host.name, name: key)
            let users = usage.users(ofVolume: key)
            // A volume goes only when nothing uses it afterwards: no domain (see `stillUses`) and
            // no overlay built on it.
            let blockers = users.filter { dom in stillUses(dom, in: host) { usage.volumes(of: $0).contains(key) } }.map(\.model.name)
                + usage.overlays(of: key).map { "overlay \($0)" }
            if !blockers.isEmpty {
                note(.info, ref, "volume \(key) is no longer in the spec; kept while \(blockers.sorted().joined(separator: ", ")) still uses it")
            } else if case .generated = seen.model.source {
                // A superseded cloud-init seed: virtsync made it and nothing of the user's is in it.
                add(PlanStep(action: .delete, resource: ref, disruption: .none,
                             reason: users.isEmpty ? "cloud-init seed no longer used" : "cloud-init seed replaced by a new one"))
            } else if prune && settings.deleteVolumesWithVM {
                add(PlanStep(action: .delete, resource: ref,
                             changes: [FieldChange(field: "size", before: seen.model.capacity, after: nil, disruption: .dataLoss)],
                             disruption: .dataLoss, reason: "no longer in the spec (pruning on, deleteVolumesWithVM on)"))
            } else {
                note(.info, ref, "volume \(key) is no longer in the spec; kept (volumes are deleted only with pruning and deleteVolumesWithVM)")
            }
        }
    }
}

/// `/a/b/` and `/a/b` are the same directory.
func normalizePath(_ path: String) -> String {
    var p = path
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    return p
}

extension PlanBuilder {
    /// The fields of a volume made from an image: where from, its digest, the format it is
    /// converted from and the size (or "as the image").
    static func imageFields(_ volume: VolumeModel, _ image: ImageSource) -> [FieldChange] {
        var fields = [FieldChange(field: "image", before: nil, after: image.location.description, disruption: .none),
                      FieldChange(field: "sha256", before: nil, after: image.shortDigest, disruption: .none)]
        if let from = image.format, from != volume.format {
            fields.append(FieldChange(field: "format", before: nil, after: "\(volume.format.rawValue) (converted from \(from.rawValue))", disruption: .none))
        } else {
            fields.append(FieldChange(field: "format", before: nil, after: volume.format.rawValue, disruption: .none))
        }
        fields.append(volume.capacity.bytes > 0 ? FieldChange(field: "size", before: nil, after: volume.capacity, disruption: .none)
                                                : FieldChange(field: "size", before: nil, after: "as the image", disruption: .none))
        return fields
    }
}
