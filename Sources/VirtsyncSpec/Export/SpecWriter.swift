import VirtsyncCore

// Writes existing libvirt resources (already parsed into the core's models) as a spec directory
// in the style of `examples/`, such that `SpecLoader` reads it back into the same models. Pure:
// the caller writes the files.

/// A domain to write, with the lines of a comment placed above its document (e.g. elements of
/// its XML that the spec does not carry).
public struct ImportedDomain: Sendable {
    public var model: DomainModel
    /// The domain runs now: written as `power: running`, otherwise `power: stopped` (the
    /// model's own `power` is not used).
    public var running: Bool
    /// The domain is paused now: written as `power: paused`.
    public var paused: Bool = false
    /// Write `adopt: true`: the spec takes the existing domain over.
    public var adopt: Bool
    public var comments: [String]

    public init(model: DomainModel, running: Bool, adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.running = running
        self.adopt = adopt
        self.comments = comments
    }
}

/// A network to write, with the lines of a comment placed above its document.
public struct ImportedNetwork: Sendable {
    public var model: NetworkModel
    public var adopt: Bool
    public var comments: [String]

    public init(model: NetworkModel, adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.adopt = adopt
        self.comments = comments
    }
}

/// A volume of an imported pool, written as an entry of the pool's `volumes:` (under the pool
/// it is listed in, whatever its `model.pool` says).
public struct ImportedVolume: Sendable {
    public var model: VolumeModel
    public var adopt: Bool

    public init(model: VolumeModel, adopt: Bool = true) {
        self.model = model
        self.adopt = adopt
    }
}

/// A pool to write with its volumes, with the lines of a comment placed above its document.
public struct ImportedPool: Sendable {
    public var model: PoolModel
    public var volumes: [ImportedVolume]
    public var adopt: Bool
    public var comments: [String]

    public init(model: PoolModel, volumes: [ImportedVolume] = [], adopt: Bool = true, comments: [String] = []) {
        self.model = model
        self.volumes = volumes
        self.adopt = adopt
        self.comments = comments
    }
}

/// Everything one import writes: the resources, the owner (a `Settings` document when set) and
/// the comment lines every file starts with.
public struct ImportSet: Sendable {
    public var domains: [ImportedDomain]
    public var networks: [ImportedNetwork]
    public var pools: [ImportedPool]
    /// `Settings.owner`; `nil` writes no `settings.yaml`.
    public var owner: String?
    /// Comment lines at the top of every file (without the `# `).
    public var header: [String]

    public init(domains: [ImportedDomain] = [], networks: [ImportedNetwork] = [], pools: [ImportedPool] = [],
                owner: String? = nil, header: [String] = []) {
        self.domains = domains
        self.networks = networks
        self.pools = pools
        self.owner = owner
        self.header = header
    }
}

/// Writes an `ImportSet` as spec files.
///
/// Every field of the models is written explicitly (not left to the loader's defaults), so that
/// the loader reads back the same models. What the spec cannot hold is left out with a comment
/// above the document: a pool volume of format `iso`, with generated content or of size zero
/// (a disk on it gets `existing: true`), a backing or clone source that is not a written volume.
/// Anything else the loader would refuse (names outside `A-Z a-z 0-9 . _ -`, targets other than
/// `vd*`/`sd*`/`hd*`, a virtio CD-ROM, a disk in a pool that is not written, ...) is written as it
/// is, for the loader to report.
public enum SpecWriter {
    /// The spec files, relative path → text: `settings.yaml` (only when `owner` is set),
    /// `networks.yaml`, `pools.yaml` (each pool with its `volumes:`), and `vms/<name>.yaml` per
    /// domain; a file with several documents separates them with `---`. Files without any
    /// document are not written. Each file starts with the `header` lines as `#` comments.
    /// Sorted by path; documents in a file and volumes in a pool are sorted by name.
    public static func files(_ set: ImportSet) -> [(path: String, text: String)] {
        var out: [(path: String, text: String)] = []
        let header = commentLines(set.header)

        if let owner = set.owner {
            var doc = SpecWriterLines()
            doc.append("apiVersion: virtsync/v1")
            doc.append("kind: Settings")
            doc.append("owner: \(scalar(owner))")
            out.append(("settings.yaml", file(header: header, documents: [doc.lines])))
        }

        let networks = set.networks.sorted { $0.model.name < $1.model.name }
        if !networks.isEmpty {
            out.append(("networks.yaml", file(header: header, documents: networks.map(networkDocument))))
        }

        let pools = set.pools.filter { PoolType.declarable.contains($0.model.type) }.sorted { $0.model.name < $1.model.name }
        let plans = pools.map(VolumePlan.init)
        // The volumes the spec declares: a disk on any other volume uses it as `existing: true`.
        var declared = Set<SpecWriterVolumeKey>()
        for (pool, plan) in zip(pools, plans) {
            for volume in plan.written { declared.insert(SpecWriterVolumeKey(pool: pool.model.name, volume: volume.model.name)) }
        }
        if !pools.isEmpty {
            let documents = zip(pools, plans).map { pool, plan in poolDocument(pool, plan: plan, declared: declared) }
            out.append(("pools.yaml", file(header: header, documents: documents)))
        }

        for domain in set.domains.sorted(by: { $0.model.name < $1.model.name }) {
            let path = "vms/\(fileName(domain.model.name)).yaml"
            out.append((path, file(header: header, documents: [domainDocument(domain, declared: declared)])))
        }
        return out.sorted { $0.path < $1.path }
    }

    // MARK: - Files and comments

    /// A file: the header, then the documents separated by `---`, each with its comments.
    private static func file(header: [String], documents: [[String]]) -> String {
        var lines = header
        if !header.isEmpty { lines.append("") }
        for (index, document) in documents.enumerated() {
            if index > 0 { lines.append("---") }
            lines += document
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `# line` for each line (a line holding line breaks gives several), `#` for an empty one.
    /// Characters YAML does not allow in a stream are replaced by `?`.
    static func commentLines(_ lines: [String]) -> [String] {
        var out: [String] = []
        for line in lines {
            var parts: [String] = [""]
            var previousCR = false
            for scalar in line.unicodeScalars {
                if scalar == "\n" {
                    if !previousCR { parts.append("") }
                    previousCR = false
                    continue
                }
                previousCR = scalar == "\r"
                if scalar == "\r" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    parts.append("")
                } else if scalar == "\t" || (isPrintable(scalar) && scalar != "\u{FEFF}") {
                    parts[parts.count - 1].unicodeScalars.append(scalar)
                } else {
                    parts[parts.count - 1].unicodeScalars.append("?")
                }
            }
            out += parts.map { $0.isEmpty ? "#" : "# " + $0 }
        }
        return out
    }

    /// A domain name as a file name: `/` (not a valid name anyway) cannot reach the path, nor
    /// can a leading `.` hide the file from the loader.
    private static func fileName(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
    }

    // MARK: - Documents

    private static func networkDocument(_ network: ImportedNetwork) -> [String] {
        let model = network.model
        var doc = SpecWriterLines()
        doc.lines = commentLines(network.comments)
        doc.append("apiVersion: virtsync/v1")
        doc.append("kind: Network")
        doc.append("name: \(scalar(model.name))")
        if network.adopt { doc.append("adopt: true") }
        doc.append("mode: \(model.mode.rawValue)")
        if let bridge = model.bridge { doc.append("bridge: \(scalar(bridge))") }
        doc.append("autostart: \(model.autostart)")
        if let ipv4 = model.ipv4 {
            doc.append("ipv4:")
            doc.append("  address: \(scalar("\(ipv4.address)/\(ipv4.prefix)"))")
            let hasRange = ipv4.dhcpStart != nil || ipv4.dhcpEnd != nil
            if hasRange || !ipv4.hosts.isEmpty {
                doc.append("  dhcp:")
                if let start = ipv4.dhcpStart { doc.append("    start: \(scalar(start))") }
                if let end = ipv4.dhcpEnd { doc.append("    end: \(scalar(end))") }
                if !ipv4.hosts.isEmpty {
                    doc.append("    hosts:")
                    for lease in ipv4.hosts {
                        var entry = "mac: \(quoted(lease.mac)), ip: \(scalar(lease.ip))"
                        if let name = lease.name { entry += ", name: \(scalar(name))" }
                        doc.append("      - {\(entry)}")
                    }
                }
            }
        }
        if let ipv6 = model.ipv6 { doc.lines += ipv6Lines(ipv6) }
        if let dns = model.dns { doc.lines += dnsLines(dns) }
        doc.lines += networkLinkLines(model)
        // Last in the document: a block scalar kept with `|+` takes the empty lines after it.
        if let fragment = model.extraXML {
            doc.append("xml:")
            doc.lines += text("network", fragment, indent: 2)
        }
        return doc.lines
    }

    /// Which volumes of a pool are written, and why the others are not.
    private struct VolumePlan {
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

    private static func poolDocument(_ pool: ImportedPool, plan: VolumePlan, declared: Set<SpecWriterVolumeKey>) -> [String] {
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
    private static func authComment(_ auth: DiskAuth?) -> [String] {
        guard let auth else { return [] }
        let object = auth.secretUUID.isEmpty ? "a secret object named by usage" : "secret object \(auth.secretUUID)"
        return ["  # auth: {username: \(scalar(auth.username)), secret: SECRET} (the key is in \(object))"]
    }

    private static func domainDocument(_ domain: ImportedDomain, declared: Set<SpecWriterVolumeKey>) -> [String] {
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

    // MARK: - Scalars

    /// A size in the loader's units, exact: the binary unit when it is whole MiB or more
    /// (`64MiB`, `2GiB`), else a decimal unit when one is exact (`100GB`), else KiB or bytes.
    static func sizeText(_ size: ByteSize) -> String {
        let binary = size.description
        guard binary.hasSuffix("KiB") || (binary.hasSuffix("B") && !binary.hasSuffix("iB")), size.bytes > 0 else { return binary }
        for (suffix, factor) in [("TB", UInt64(1_000_000_000_000)), ("GB", 1_000_000_000), ("MB", 1_000_000)]
        where size.bytes % factor == 0 {
            return "\(size.bytes / factor)\(suffix)"
        }
        return binary
    }

    /// `key: value` lines for a text: a literal block scalar when the text can be one exactly
    /// (`|`, `|-` or `|+` after its trailing line breaks, an indentation indicator when its first
    /// line starts with a blank), else a double-quoted scalar with escapes. The key is indented
    /// by `indent` spaces, the block's content by two more.
    static func text(_ key: String, _ value: String, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        guard let block = blockScalar(value, indent: indent + 2) else { return ["\(pad)\(key): \(quoted(value))"] }
        return ["\(pad)\(key): \(block.indicator)"] + block.lines
    }

    /// The header indicator and content lines of `value` as a literal block scalar whose
    /// content is indented by `indent` spaces, two more than the mapping holding its key (the
    /// indentation indicator, when one is needed, is `2`); nil when a block scalar cannot hold
    /// it exactly.
    static func blockScalar(_ value: String, indent: Int) -> (indicator: String, lines: [String])? {
        // Line breaks other than \n would be read as \n; other characters are not allowed.
        for scalar in value.unicodeScalars where scalar != "\n" && scalar != "\t" {
            if scalar == "\r" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{FEFF}"
                || !isPrintable(scalar) {
                return nil
            }
        }
        var body = Substring(value)
        var trailing = 0
        while body.hasSuffix("\n") {
            body = body.dropLast()
            trailing += 1
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let firstContent = lines.first(where: { !$0.isEmpty }),
              lines.contains(where: { $0.contains { $0 != " " && $0 != "\t" } }) else { return nil }
        let chomping = trailing == 0 ? "-" : trailing == 1 ? "" : "+"
        // Without an indicator the indentation is taken from the first line that is not empty:
        // a leading space or tab (or a line of blanks before the content) would be taken for it.
        let needsIndicator = firstContent.hasPrefix(" ") || firstContent.hasPrefix("\t")
        let indicator = "|" + (needsIndicator ? "2" : "") + chomping
        let pad = String(repeating: " ", count: indent)
        var out = lines.map { $0.isEmpty ? "" : pad + $0 }
        if trailing > 1 { out += Array(repeating: "", count: trailing - 1) }
        return (indicator, out)
    }

    /// A string as a YAML scalar that every YAML reader takes for this same string: plain when
    /// that is safe (`web-1`, `/var/lib/x`, `10.0.0.1/24`, `q35`), else double-quoted.
    static func scalar(_ value: String) -> String {
        isSafePlain(value) ? value : quoted(value)
    }

    /// Plain scalars are limited to letters, digits and `_ . / @ + -`, starting with a letter, a
    /// digit, `_` or `/`, and never a word or number that YAML 1.1 or 1.2 types otherwise.
    private static func isSafePlain(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        let isLetter: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
        let isDigit: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
        let allowed: (Unicode.Scalar) -> Bool = { c in
            isLetter(c) || isDigit(c) || c == "_" || c == "." || c == "/" || c == "@" || c == "+" || c == "-"
        }
        guard value.unicodeScalars.allSatisfy(allowed) else { return false }
        guard isLetter(first) || isDigit(first) || first == "_" || first == "/" else { return false }
        let reserved: Set<String> = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        if reserved.contains(value.lowercased()) { return false }
        if isDigit(first) || first == "_" {
            // Numbers (`1e3`, `0x1F`, `1_000`, `010`) and dates (`2024-01-05`) start with a
            // digit: plain only with a letter no number or date has, or as an IPv4 address.
            if isIPv4(value) { return true }
            let numberish = Set("abcdefABCDEFxXoO".unicodeScalars)
            return value.unicodeScalars.contains { isLetter($0) && !numberish.contains($0) }
        }
        return true
    }

    /// `a.b.c.d` or `a.b.c.d/p`, with decimal parts.
    private static func isIPv4(_ value: String) -> Bool {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// A double-quoted scalar: `\`, `"`, line breaks and characters YAML does not allow (or
    /// folds) are escaped; other characters, non-ASCII included, are written as they are.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            case "\u{85}": out += "\\N"
            case "\u{A0}": out += "\\_"
            case "\u{2028}": out += "\\L"
            case "\u{2029}": out += "\\P"
            default:
                if isPrintable(scalar) && scalar != "\u{FEFF}" {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + hex(scalar.value, digits: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + hex(scalar.value, digits: 4)
                } else {
                    out += "\\U" + hex(scalar.value, digits: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// YAML's printable characters (tab and line breaks aside): `#x20-#x7E`, `#x85`,
    /// `#xA0-#xD7FF`, `#xE000-#xFFFD`, `#x10000-#x10FFFF`.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}

/// A `pool/volume` pair of the spec being written.
private struct SpecWriterVolumeKey: Hashable {
    var pool: String
    var volume: String
}

/// The lines of one document being written.
private struct SpecWriterLines {
    var lines: [String] = []
    mutating func append(_ line: String) { lines.append(line) }
}
