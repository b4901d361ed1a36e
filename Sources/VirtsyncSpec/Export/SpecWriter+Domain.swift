import VirtsyncCore

/// VM documents.
extension SpecWriter {
    static func domainDocument(_ domain: ImportedDomain, declared: Set<SpecWriterVolumeKey>) -> [String] {
        let model = domain.model
        var doc = SpecWriterLines()
        doc.lines = commentLines(domain.comments)
        doc.append("apiVersion: virtsync/v1")
        doc.append("kind: VirtualMachine")
        doc.append("name: \(scalar(model.name))")
        if domain.adopt { doc.append("adopt: true") }
        if let uuid = model.uuid { doc.append("uuid: \(scalar(uuid))") }
        doc.append("vcpus: \(model.vcpus)")
        if let maxVcpus = model.maxVcpus { doc.append("maxVcpus: \(maxVcpus)") }
        doc.append("memory: \(sizeText(model.memory))")
        if let maxMemory = model.maxMemory { doc.append("maxMemory: \(sizeText(maxMemory))") }
        if let machine = model.machine { doc.append("machine: \(scalar(machine))") }
        doc.append("firmware: \(model.firmware.rawValue)")
        if let loader = model.loader { doc.append("loader: \(scalar(loader))") }
        doc.lines += cpuLines(model)
        if let iothreads = model.cpu.iothreads, iothreads > 0 { doc.append("iothreads: \(iothreads)") }
        doc.append(powerLine(domain))
        doc.append("autostart: \(model.autostart)")
        if model.restartForUpdates { doc.append("restartForUpdates: true") }
        if model.restart != RestartPolicy() {
            doc.append("restartPolicy: \(model.restart.mode.rawValue)")
            doc.append("maxRestarts: \(model.restart.maxRestarts)")
            doc.append("restartWindow: \(DurationFormat.format(model.restart.window))")
        }
        doc.append(graphicsLine(model))
        doc.append("console: \(model.serialConsole)")
        doc.lines += memoryTuningLines(model)
        if !model.disks.isEmpty {
            doc.append("disks:")
            for disk in model.disks {
                switch disk.source {
                case .volume(let pool, let volume):
                    doc.append("  - volume: \(scalar("\(pool)/\(volume)"))")
                    if !declared.contains(SpecWriterVolumeKey(pool: pool, volume: volume)) { doc.append("    existing: true") }
                case .file(let path):
                    doc.append("  - file: \(scalar(path))")
                case .block(let path):
                    doc.append("  - block: \(scalar(path))")
                case .network(let network):
                    doc.append("  - network:")
                    doc.append("      protocol: \(network.protocol.rawValue)")
                    if let name = network.name { doc.append("      name: \(scalar(name))") }
                    doc.append("      hosts: [\(network.hosts.map(scalar).joined(separator: ", "))]")
                    if let auth = network.auth {
                        // The key is in libvirt's secret object only: name the Secret that holds it.
                        doc.append("      # auth: {username: \(scalar(auth.username)), secret: SECRET} (the key is in secret object \(auth.secretUUID))")
                    }
                }
                doc.append("    bus: \(disk.bus.rawValue)")
                doc.append("    target: \(scalar(disk.target))")
                doc.append("    cdrom: \(disk.cdrom)")
                doc.append("    readonly: \(disk.readonly)")
                doc.lines += diskOptionLines(disk.options)
            }
        }
        if !model.interfaces.isEmpty {
            doc.append("interfaces:")
            for nic in model.interfaces {
                switch nic.source {
                case .network(let name): doc.append("  - network: \(scalar(name))")
                case .bridge(let name): doc.append("  - bridge: \(scalar(name))")
                case .direct(let device, let mode): doc.append("  - direct: {device: \(scalar(device)), mode: \(mode.rawValue)}")
                }
                if let mac = nic.mac { doc.append("    mac: \(quoted(mac))") }
                doc.append("    model: \(scalar(nic.model))")
                doc.append("    link: \(nic.linkUp ? "up" : "down")")
                doc.lines += interfaceOptionLines(nic.options)
            }
        }
        doc.lines += platformLines(model.platform, loader: model.loader)
        // Last in the document: a block scalar kept with `|+` takes the empty lines after it.
        if model.extraXML.devices != nil || model.extraXML.domain != nil {
            doc.append("xml:")
            if let devices = model.extraXML.devices { doc.lines += text("devices", devices, indent: 2) }
            if let fragment = model.extraXML.domain { doc.lines += text("domain", fragment, indent: 2) }
        }
        return doc.lines
    }
}
