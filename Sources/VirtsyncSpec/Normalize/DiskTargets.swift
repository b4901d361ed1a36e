import VirtsyncCore

/// Guest device names for disks: explicit targets are kept; the others get the first free name
/// of their bus's prefix, in the order written (`vd` virtio, `sd` sata and scsi, `hd` ide).
enum DiskTargets {
    static func prefix(of bus: DiskBus) -> String {
        switch bus {
        case .virtio: return "vd"
        case .sata, .scsi, .virtioScsi: return "sd"
        case .ide: return "hd"
        }
    }

    /// `a`...`z`, `aa`, `ab`, ... as libvirt counts.
    static func letters(_ number: Int) -> String {
        var number = number
        var out: [Character] = []
        repeat {
            out.insert(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(number % 26))), at: 0)
            number = number / 26 - 1
        } while number >= 0
        return String(out)
    }

    /// - Parameter domain: the VM's name: a network disk's key is in the secret object of this
    ///   VM and its Secret (see `Normalizer.escapeHatchObjects`).
    static func assign(_ disks: [DiskSpec], domain: String) -> [DiskModel] {
        var used = Set(disks.compactMap { $0.target?.value })
        var nextIndex: [String: Int] = [:]
        return disks.compactMap { disk in
            let bus = disk.bus ?? (disk.cdrom ? .sata : .virtio)
            let source: DiskSource
            if let volume = disk.volume?.value {
                source = .volume(pool: volume.pool, volume: volume.volume)
            } else if let file = disk.file?.value {
                source = .file(path: file)
            } else if let block = disk.block?.value {
                source = .block(path: block)
            } else if let network = disk.network {
                var auth: DiskAuth?
                if let username = network.username, let secret = network.secret?.value, let type = network.protocol.secretType {
                    let consumer = SecretObjectModel.consumer(domain: domain, secret: secret, type: type)
                    auth = DiskAuth(username: username, secretType: type, secretUUID: SecretObjectModel.uuid(consumer: consumer))
                }
                source = .network(NetworkDisk(protocol: network.protocol, name: network.name, hosts: network.hosts, auth: auth))
            } else {
                return nil
            }
            let target: String
            if let explicit = disk.target?.value {
                target = explicit
            } else {
                let prefix = prefix(of: bus)
                var number = nextIndex[prefix, default: 0]
                while used.contains(prefix + letters(number)) { number += 1 }
                target = prefix + letters(number)
                nextIndex[prefix] = number + 1
                used.insert(target)
            }
            return DiskModel(target: target, bus: bus, cdrom: disk.cdrom, source: source,
                             readonly: disk.readonly ?? disk.cdrom, options: disk.options)
        }
    }

    /// The first name with `prefix` that none of `disks` uses.
    static func next(prefix: String, after disks: [DiskModel]) -> String {
        let used = Set(disks.map(\.target))
        var number = 0
        while used.contains(prefix + letters(number)) { number += 1 }
        return prefix + letters(number)
    }
}
