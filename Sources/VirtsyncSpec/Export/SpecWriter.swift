import VirtsyncCore

// Writes existing libvirt resources (already parsed into the core's models) as a spec directory
// in the style of `examples/`, such that `SpecLoader` reads it back into the same models. Pure:
// the caller writes the files.

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
    static func file(header: [String], documents: [[String]]) -> String {
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
    static func fileName(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
    }
}

/// A `pool/volume` pair of the spec being written.
struct SpecWriterVolumeKey: Hashable {
    var pool: String
    var volume: String
}

/// The lines of one document being written.
struct SpecWriterLines {
    var lines: [String] = []
    mutating func append(_ line: String) { lines.append(line) }
}
