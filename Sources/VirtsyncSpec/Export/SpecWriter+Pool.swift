import VirtsyncCore

/// Pool documents, with the volumes they declare.
extension SpecWriter {
    /// Which volumes of a pool are written, and why the others are not.
    struct VolumePlan {
        var written: [ImportedVolume] = []
        var skipped: [String] = []

        init(_ pool: ImportedPool) {
            guard pool.model.type.createsVolumes else {
                // An iSCSI pool's volumes are the target's LUNs: a disk on one uses it as existing.
                if !pool.volumes.isEmpty { skipped.append("its volumes are the target's LUNs and cannot be declared") }
                return
            }
            for volume in pool.volumes.sorted(by: { $0.model.name < $1.model.name }) {
                let model = volume.model
                let problem: String?
                if model.format == .iso {
                    problem = "format iso cannot be declared in a spec (only qcow2 and raw)"
                } else if case .generated = model.source {
                    problem = "its content is generated (a cloud-init seed)"
                } else if model.capacity.bytes == 0 {
                    problem = "a declared volume needs a size above zero"
                } else {
                    problem = nil
                }
                if let problem {
                    skipped.append("volume \(model.name) is not declared: \(problem); a disk on it uses it as existing")
                } else {
                    written.append(volume)
                }
            }
        }
    }

    static func poolDocument(_ pool: ImportedPool, plan: VolumePlan, declared: Set<SpecWriterVolumeKey>) -> [String] {
        let model = pool.model
        var volumeLines: [String] = []
        var notes = plan.skipped
        for volume in plan.written {
            let v = volume.model
            volumeLines.append("  - name: \(scalar(v.name))")
            volumeLines.append("    size: \(sizeText(v.capacity))")
            volumeLines.append("    format: \(v.format.rawValue)")
            // A backing or clone source must be a volume of the spec (and an overlay qcow2).
            let source: (field: String, pool: String, volume: String)?
            switch v.source {
            case .backing(let p, let name): source = ("backing", p, name)
            case .clone(let p, let name): source = ("clone", p, name)
            case .blank, .generated, .image: source = nil
            }
            if let source {
                if declared.contains(SpecWriterVolumeKey(pool: source.pool, volume: source.volume)),
                   source.field == "clone" || v.format == .qcow2 {
                    volumeLines.append("    \(source.field): \(scalar("\(source.pool)/\(source.volume)"))")
                } else {
                    notes.append("volume \(v.name): its \(source.field) \(source.pool)/\(source.volume) is not a volume of this spec, so it is not written")
                }
            }
            if volume.adopt { volumeLines.append("    adopt: true") }
        }

        var doc = SpecWriterLines()
        doc.lines = commentLines(pool.comments + notes)
        doc.append("apiVersion: virtsync/v1")
        doc.append("kind: StoragePool")
        doc.append("name: \(scalar(model.name))")
        if pool.adopt { doc.append("adopt: true") }
        doc.append("type: \(model.type.rawValue)")
        if model.type.hasTargetPath { doc.append("path: \(scalar(model.path))") }
        switch model.type {
        case .logical:
            if let group = model.volumeGroup { doc.append("volumeGroup: \(scalar(group))") }
            if !model.devices.isEmpty {
                doc.append("devices:")
                for device in model.devices { doc.append("  - \(scalar(device))") }
            }
        case .netfs:
            if model.sourceHost != nil || model.sourceDir != nil {
                doc.append("source:")
                if let host = model.sourceHost { doc.append("  host: \(scalar(host))") }
                if let dir = model.sourceDir { doc.append("  dir: \(scalar(dir))") }
            }
        case .fs:
            doc.append("source:")
            if let device = model.devices.first { doc.append("  device: \(scalar(device))") }
            if let format = model.sourceFormat { doc.append("  format: \(scalar(format))") }
        case .iscsi:
            doc.append("source:")
            if let host = model.sourceHost { doc.append("  host: \(scalar(host))") }
            if let target = model.devices.first { doc.append("  target: \(scalar(target))") }
            if let initiator = model.initiator { doc.append("  initiator: \(scalar(initiator))") }
            doc.lines += authComment(model.auth)
        case .rbd:
            doc.append("source:")
            if let name = model.sourceName { doc.append("  name: \(scalar(name))") }
            if let monitors = model.sourceHosts, !monitors.isEmpty {
                doc.append("  monitors:")
                for monitor in monitors { doc.append("    - \(scalar(monitor))") }
            }
            doc.lines += authComment(model.auth)
        case .zfs:
            doc.append("source:")
            if let name = model.sourceName { doc.append("  name: \(scalar(name))") }
            if !model.devices.isEmpty {
                doc.append("  devices:")
                for device in model.devices { doc.append("    - \(scalar(device))") }
            }
        case .dir:
            break
        }
        doc.append("autostart: \(model.autostart)")
        if !volumeLines.isEmpty {
            doc.append("volumes:")
            doc.lines += volumeLines
        }
        if let fragment = model.extraXML {
            doc.append("xml:")
            doc.lines += text("pool", fragment, indent: 2)
        }
        return doc.lines
    }

    /// A pool's authentication as a comment: the key is in a secret object, and a spec names a
    /// Secret document, which the importer cannot know.
    static func authComment(_ auth: DiskAuth?) -> [String] {
        guard let auth else { return [] }
        let object = auth.secretUUID.isEmpty ? "a secret object named by usage" : "secret object \(auth.secretUUID)"
        return ["  # auth: {username: \(scalar(auth.username)), secret: SECRET} (the key is in \(object))"]
    }
}
