import ArgumentParser
import VirtsyncCore
import VirtsyncSpec

/// `virtsync validate PATH` or `virtsync validate --repo URL`: every problem in one run, exit 1
/// on any error. With `--allowed-signers`, the commit's signature is verified too.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a spec: syntax, fields, references, capacity. Changes nothing.",
        discussion: """
            Every problem is reported at once, with file, line and column; exit 1 on any error.
            --format json writes a report to stdout instead (specs/validate.schema.json): each
            diagnostic's file, line, column, key path, severity and message.

            Examples:
              virtsync validate examples/lab
              virtsync validate --repo git@git.example.com:infra/vms.git --path clusters/prod
              virtsync validate examples/lab --format json > report.json
            """)

    enum Format: String, CaseIterable, ExpressibleByArgument { case text, json }

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "State directory, where the cache of --repo is kept (default /var/lib/virtsync, or VIRTSYNC_STATE_DIR).")
    var stateDir: String?

    @Option(name: .long, help: "Output format: text (diagnostics on stderr) or json (a report on stdout).")
    var format: Format = .text

    func validate() throws {
        try source.requireSource()
    }

    func run() async throws {
        let loaded: LoadedSpec
        do {
            let state = stateDir ?? Environment.value("VIRTSYNC_STATE_DIR") ?? "/var/lib/virtsync"
            // Signatures are checked as apply would: every commit since the last applied one.
            loaded = try await Frontend.load(source, stateDir: state, lastApplied: try Frontend.lastApplied(source, stateDir: state))
        } catch {
            if format == .json {
                try report(ValidationReport(path: source.label, diagnostics: [], unplaced: [(.error, "\(error)")]))
            }
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        let diagnostics = loaded.diagnostics
        let where_ = loaded.provenance.map { "\(source.label) at \($0.commit.id.short)" } ?? source.label
        guard let desired = loaded.desired, !diagnostics.hasErrors else {
            if format == .json {
                try report(ValidationReport(path: where_, diagnostics: diagnostics.items))
            } else {
                Environment.printError(diagnostics.description)
            }
            Environment.printError("\(diagnostics.errors.count) error\(diagnostics.errors.count == 1 ? "" : "s") in \(where_)")
            throw ExitCode(Exit.error)
        }
        // Placement in an empty cluster: VMs that fit nowhere (an error: no apply could place
        // them), and the N+1 check (a warning). HA VMs off shared storage were reported by the
        // loader already, at their disks.
        let failover = Set(HANotes.failover(desired))
        let placementNotes = ClusterPlacement.resolve(desired, observed: desired.emptyCluster).notes
            .filter { $0.severity != .info && !failover.contains($0) }
        if format == .json {
            try report(ValidationReport(path: where_, diagnostics: diagnostics.items,
                                        unplaced: placementNotes.map { ($0.severity == .error ? .error : .warning, $0.message) }))
        } else {
            if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
            for note in placementNotes {
                Environment.printError("\(note.severity.rawValue): \(note.message)")
            }
        }
        if placementNotes.contains(where: { $0.severity == .error }) {
            Environment.printError("\(where_): some VMs fit on no host")
            throw ExitCode(Exit.error)
        }
        if format == .json { return }
        let counts = desired.hosts.reduce(into: (desired.machines.count, 0, 0, 0)) { c, h in
            c.0 += h.domains.count; c.1 += h.networks.count; c.2 += h.pools.count; c.3 += h.volumes.count
        }
        var line = "\(where_): valid (\(desired.hosts.count) host\(desired.hosts.count == 1 ? "" : "s"), \(counts.0) VMs, \(counts.1) networks, \(counts.2) pools, \(counts.3) volumes; digest \(desired.specDigest.prefix(12)))"
        if let signer = loaded.provenance?.signer { line += "; signed by \(signer)" }
        print(line)
    }

    /// The JSON report on stdout.
    private func report(_ report: ValidationReport) throws {
        print(try report.json(), terminator: "")
    }
}
