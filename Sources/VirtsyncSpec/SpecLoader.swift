import Foundation
import VirtsyncCore


/// The result of loading a spec: the desired state when there are no errors, and every
/// diagnostic found (errors and warnings), in one run.
public struct SpecLoadResult: Sendable {
    /// The normalized desired state; `nil` when any error was found.
    public var desired: DesiredState?
    /// Every error and warning, with file, line, column and key path.
    public var diagnostics: Diagnostics

    /// Wraps a result.
    public init(desired: DesiredState?, diagnostics: Diagnostics) {
        self.desired = desired
        self.diagnostics = diagnostics
    }
}

/// Turns spec files into a validated `DesiredState`.
public enum SpecLoader {
    /// Parses, validates and normalizes `files`. Never throws: every problem is a diagnostic.
    ///
    /// Files are read in path order; `.yaml`/`.yml` files hold the documents, except those whose
    /// first line is `#cloud-config` (cloud-init user data kept next to the spec). The digest of
    /// the result covers every file, whatever its extension.
    public static func load(files: [SpecFile], commit: String? = nil) -> SpecLoadResult {
        let reporter = Reporter()
        let sorted = files.sorted { $0.path < $1.path }
        var byPath: [String: SpecFile] = [:]
        byPath.reserveCapacity(sorted.count)
        for file in sorted {
            if byPath[file.path] != nil {
                reporter.error(SourceLocation(file: file.path), "", "the file is given twice")
            }
            byPath[file.path] = file
        }
        let paths = Set(byPath.keys)

        // Files are parsed and decoded side by side (YAML parsing is most of a load), each
        // worker into its own spec and reporter, merged back in path order so that the result
        // and the diagnostics do not depend on the number of workers.
        let specSources = sorted.filter(\.isSpecDocument)
        let specFiles = specSources.count
        let workers = specSources.count >= 8 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) : 1
        let perWorker = (specSources.count + workers - 1) / workers
        let parts = (0..<workers).map { _ in DecodedPart() }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let part = parts[w]
            let start = min(specSources.count, w * perWorker), end = min(specSources.count, start + perWorker)
            for file in specSources[start..<end] {
                decode(file, paths: paths, into: part)
            }
        }
        var spec = ClusterSpec()
        for part in parts {
            spec.hosts += part.spec.hosts
            spec.networks += part.spec.networks
            spec.pools += part.spec.pools
            spec.machines += part.spec.machines
            spec.settings += part.spec.settings
            spec.secrets += part.spec.secrets
            spec.documentCount += part.spec.documentCount
            spec.incomplete = spec.incomplete || part.spec.incomplete
            reporter.absorb(part.reporter)
        }
        if spec.documentCount == 0 && !reporter.hasErrors {
            let what = specFiles == 0 ? "no .yaml or .yml files" : "the files hold no documents"
            reporter.error(SourceLocation(file: "."), "", "empty spec: \(what)")
        }

        let index = SpecValidator.validate(spec, reporter: reporter, files: byPath)
        guard !reporter.hasErrors else {
            return SpecLoadResult(desired: nil, diagnostics: Diagnostics(withinFiles(reporter.items, byPath)))
        }
        let normalizer = Normalizer(spec: spec, index: index, files: byPath)
        let desired = normalizer.desiredState(specDigest: digest(of: sorted), commit: commit)
        return SpecLoadResult(desired: desired, diagnostics: Diagnostics(withinFiles(reporter.items, byPath)))
    }

    /// The diagnostics with every position inside its file. libyaml ends a file that lacks a
    /// final line break with one of its own, so a node or an error at the very end can be
    /// placed on a line past the file's last; it is shown at the end of the last line instead.
    static func withinFiles(_ items: [Diagnostic], _ files: [String: SpecFile]) -> [Diagnostic] {
        var ends: [String: (line: Int, column: Int)] = [:]
        return items.map { item in
            guard item.location.line > 1, let file = files[item.location.file] else { return item }
            let end = ends[file.path] ?? {
                let (count, lastStart) = YAMLDocuments.lines(in: file.bytes)
                let end = (count, String(decoding: file.bytes[lastStart...], as: UTF8.self).count + 1)
                ends[file.path] = end
                return end
            }()
            guard item.location.line > end.line else { return item }
            var clamped = item
            clamped.location = SourceLocation(file: file.path, line: end.line, column: end.column)
            return clamped
        }
    }

    /// SHA-256 over every file in path order, each path and content prefixed by its length so
    /// that no two different file sets hash the same bytes.
    /// One worker's share of a load.
    final class DecodedPart: @unchecked Sendable {
        // Used by one worker at a time: filled inside `concurrentPerform`, read after it.
        var spec = ClusterSpec()
        let reporter = Reporter()
    }

    private static func decode(_ file: SpecFile, paths: Set<String>, into part: DecodedPart) {
        guard let text = YAMLDocuments.text(of: file, reporter: part.reporter) else {
            part.spec.incomplete = true
            return
        }
        if isCloudConfig(text) { return }
        let decoder = DocumentDecoder(file: file.path, reporter: part.reporter, filePaths: paths)
        let parsed = YAMLDocuments.forEach(in: text, file: file.path, reporter: part.reporter) { root, _ in
            decoder.decode(root, into: &part.spec)
        }
        if !parsed { part.spec.incomplete = true }
    }

    static func digest(of sortedFiles: [SpecFile]) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(sortedFiles.reduce(0) { $0 + $1.bytes.count + $1.path.utf8.count + 16 })
        func appendLength(_ count: Int) {
            let value = UInt64(count)
            for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        for file in sortedFiles {
            appendLength(file.path.utf8.count)
            buffer.append(contentsOf: file.path.utf8)
            appendLength(file.bytes.count)
            buffer.append(contentsOf: file.bytes)
        }
        return Digest.sha256Hex(buffer)
    }

    /// Cloud-init user data (`#cloud-config` on the first line) is not a spec document.
    private static func isCloudConfig(_ text: String) -> Bool {
        guard text.hasPrefix("#cloud-config") else { return false }
        let rest = text.dropFirst("#cloud-config".count)
        return rest.first.map { $0 == "\n" || $0 == "\r\n" || $0 == " " || $0 == "\t" } ?? true
    }
}
