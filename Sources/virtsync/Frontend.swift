import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine
import VirtsyncGit
import VirtsyncLibvirt
import VirtsyncSpec

/// The work behind the commands: load a spec, connect, plan, apply. The commands only parse
/// options and turn outcomes into exit codes.
enum Frontend {
    /// Reads and validates a spec directory.
    static func load(_ path: String) -> (DesiredState?, Diagnostics) {
        let (files, readDiagnostics) = DirectorySource(root: path).files()
        if readDiagnostics.hasErrors { return (nil, readDiagnostics) }
        let result = SpecLoader.load(files: files)
        var all = readDiagnostics
        all.items += result.diagnostics.items
        return (all.hasErrors ? nil : result.desired, all)
    }

    /// Sets up logging on stderr at the given level.
    static func bootstrapLogging(_ level: LogLevel) {
        let parsed = Logger.Level(rawValue: level.rawValue) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }

    /// The reading half over libvirt, for `plan`: its sessions cannot change a host.
    static func reconciler(_ host: HostOptions) throws -> Reconciler {
        try workflow(host).reader
    }

    /// The apply workflow over libvirt, with the machine-wide inventory.
    /// - Parameter recordedURI: the URI a saved plan was made with, used when neither
    ///   `--connect` nor VIRTSYNC_CONNECT names one.
    static func workflow(_ host: HostOptions, recordedURI: String? = nil) throws -> ApplyWorkflow {
        let inventory = try InventoryStore(directory: host.resolvedHostsDir, legacyStateDirectory: host.resolvedStateDir)
        return ApplyWorkflow(connector: LibvirtConnector(options: LibvirtSessionOptions(shutdownTimeout: host.resolvedShutdownTimeout)),
                             inventory: inventory,
                             defaultURI: host.connect ?? Environment.value("VIRTSYNC_CONNECT") ?? recordedURI ?? "qemu:///system")
    }

    /// The libvirt URI when it is known before the spec is read (`--connect` or VIRTSYNC_CONNECT).
    static func explicitURI(_ host: HostOptions) -> String? {
        host.connect ?? Environment.value("VIRTSYNC_CONNECT")
    }

    /// Applies `--connect` to a single-host spec (overriding its Host's URI, if it has one);
    /// refuses it for a spec with several hosts.
    static func applyConnect(_ desired: inout DesiredState, _ host: HostOptions) throws {
        guard let uri = host.connect else { return }
        guard desired.hosts.count == 1 else {
            throw EngineError("--connect applies to a single-host spec; this spec has \(desired.hosts.count) hosts, each with its URI")
        }
        desired.hosts[0].uri = uri
    }

    static func planOptions(_ source: SourceOptions, _ host: HostOptions, uri: String) -> PlanOptions {
        PlanOptions(prune: host.prune, source: source.repo == nil ? absolute(source.directory ?? ".") : nil,
                    recorded: ["connect": uri, "allow_mass_delete": String(host.allowMassDelete)], claimUnowned: host.claimUnowned)
    }

    /// The last commit applied from `--repo`/`--path`, from the state directory.
    static func lastApplied(_ source: SourceOptions, stateDir: String) throws -> String? {
        guard source.repo != nil else { return nil }
        return try lastApplied(source, records: SourceRecordStore(stateDirectory: stateDir))
    }

    /// The same, from a store already read.
    static func lastApplied(_ source: SourceOptions, records: SourceRecordStore) throws -> String? {
        guard let repo = source.repo else { return nil }
        let url = try RemoteURL(repo).identity
        return records.record(SourceRecordStore.key(repository: url, path: source.path))?.lastApplied
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Renders in the requested format.
    /// The plan of `source` against the live hosts (what `plan` shows and `diff` narrows down).
    static func livePlan(_ source: SourceOptions, host: HostOptions, secrets: SecretOptions, ref head: String?) async throws -> Plan {
        try await liveRead(source, host: host, secrets: secrets, ref: head).plan
    }

    /// The plan of `source` against the live hosts, with the desired and observed states it compares.
    static func liveRead(_ source: SourceOptions, host: HostOptions, secrets: SecretOptions,
                         ref head: String?) async throws -> (plan: Plan, desired: DesiredState, observed: ObservedState) {
        let reconciler = try Frontend.reconciler(host)
        // With the URI given, reading libvirt overlaps with loading the spec.
        let prefetch = Frontend.explicitURI(host).map { reconciler.prefetch(uri: $0) }
        let loaded: LoadedSpec
        do {
            let last = try source.repo == nil ? nil : Frontend.lastApplied(source, stateDir: host.resolvedStateDir)
            loaded = try await Frontend.load(source, stateDir: host.resolvedStateDir, ref: head, lastApplied: last)
        } catch {
            prefetch?.cancel()
            throw error
        }
        guard var desired = loaded.desired else {
            prefetch?.cancel()
            throw loaded.diagnostics
        }
        desired = await secrets.reader.bind(desired)
        if !loaded.diagnostics.items.isEmpty { Environment.printError(loaded.diagnostics.description) }
        try Frontend.applyConnect(&desired, host)
        let (_, _, observed) = await reconciler.read(desired, prefetch: prefetch)
        var plan = await reconciler.plan(desired, observed: observed,
                                         options: Frontend.planOptions(source, host, uri: reconciler.defaultURI))
        Frontend.annotate(&plan, loaded.provenance)
        try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: desired.settings.maxDeleteFraction, allow: host.allowMassDelete,
                                        owner: desired.owner)
        return (plan, desired, observed)
    }

    static func render(_ plan: Plan, format: PlanFormat, color: Bool) throws -> String {
        switch format {
        case .text: return TextRenderer(color: color).render(plan)
        case .markdown: return MarkdownRenderer().render(plan)
        case .json: return try JSONRenderer().render(plan)
        }
    }
}

/// Output formats of a plan.
enum PlanFormat: String, CaseIterable {
    case text, markdown, json
}
