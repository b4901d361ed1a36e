import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncCore
import VirtsyncEngine
import VirtsyncImages
import VirtsyncSpec

/// `virtsync apply PATH`, `virtsync apply --repo URL` or `virtsync apply --plan FILE`.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the hosts match the spec (or carry out a saved plan).",
        discussion: """
            Shows the plan first and asks for 'yes' on a terminal (--auto-approve skips the question).

            Examples:
              virtsync apply examples/lab --connect qemu:///system
              virtsync apply --plan plan.json --auto-approve
              virtsync apply --repo git@git.example.com:infra/vms.git --prune
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var host: HostOptions
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "Carry out this saved plan (from `plan --out`); refused if the spec, the commit or the hosts moved since.")
    var plan: String?

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var autoApprove = false

    @Flag(name: .long, help: "Apply a commit that does not descend from the last applied one (after a force-push, or to go back to an older commit).")
    var allowHistoryRewrite = false

    @Option(name: .long, help: "Steps run at once (across hosts).")
    var parallel: Int = 8

    @Option(name: .long, help: "Where OS images (volumes with an image) are kept, named by SHA-256 (default: /var/cache/virtsync/images for root, else ~/.cache/virtsync/images).")
    var imageCache: String?

    @OptionGroup var colors: ColorOptions

    func validate() throws {
        if plan == nil { try source.requireSource() }
    }

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        do {
            let lock = try ApplyLock(stateDirectory: host.resolvedStateDir)
            defer { lock.release() }
            try await apply()
        } catch let e as ExitCode {
            throw e
        } catch let diagnostics as Diagnostics {
            Environment.printError(diagnostics.description)
            throw ExitCode(Exit.error)
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }

    /// The saved plan, and the source it names when none was given.
    private func savedPlan() throws -> (Plan?, SourceOptions, ref: String?) {
        var source = self.source
        guard let planFile = plan else { return (nil, source, nil) }
        guard let bytes = FileManager.default.contents(atPath: planFile) else { throw EngineError("cannot read plan file \(planFile)") }
        let saved = try JSONRenderer.decode(Array(bytes))
        if saved.basis.baseCommit != nil {
            throw EngineError("\(planFile) is a review plan (--base): it was made without reading any host and cannot be applied")
        }
        if let commit = saved.basis.commit {
            guard source.repo != nil else {
                throw EngineError("the plan was made from git (\(saved.basis.repository ?? "a repository")): give --repo (and its credentials) again")
            }
            if let path = saved.basis.options["path"] { source.path = path }
            return (saved, source, commit)   // exactly the reviewed commit, wherever the ref is now
        }
        if source.directory == nil && source.repo == nil { source.directory = saved.basis.source }
        try source.requireSource()
        return (saved, source, nil)
    }

    private func apply() async throws {
        let (saved, source, pinned) = try savedPlan()
        let stateDir = host.resolvedStateDir
        let records = try SourceRecordStore(stateDirectory: stateDir)
        // A saved plan names the host it read: without --connect, apply goes there too.
        let workflow = try Frontend.workflow(host, recordedURI: saved?.basis.options["connect"])
        let last = try Frontend.lastApplied(source, records: records)
        let loaded = try await Frontend.load(source, stateDir: stateDir, ref: pinned, lastApplied: last)
        guard var desired = loaded.desired else { throw loaded.diagnostics }
        desired = await secrets.reader.bind(desired)
        try Frontend.applyConnect(&desired, host)
        if let recorded = saved?.basis.connections {
            // Before connecting anywhere: a plan read one host and cannot be carried out on another.
            for target in desired.hosts {
                let uri = target.uri ?? workflow.defaultURI
                if let planned = recorded[target.name], planned != uri {
                    throw EngineError("the plan was made for host \(target.name) at \(planned), but this apply would reach it at \(uri): "
                                      + "give --connect \(planned) (or the spec's Host uri it had), or plan again")
                }
            }
        }
        var options = Frontend.planOptions(source, host, uri: workflow.defaultURI)
        if let saved { options.prune = saved.basis.options["prune"] == "true" }

        var request = ApplyWorkflow.Request(desired: desired, options: options,
                                            holder: "virtsync apply, pid \(getpid()), owner \(desired.owner ?? "none")")
        request.saved = saved
        request.historyRewrite = loaded.provenance?.historyRewrite
        request.allowHistoryRewrite = allowHistoryRewrite
        request.allowMassDelete = host.allowMassDelete
        request.lockTimeout = .seconds(max(0, host.lockTimeout))
        request.record = loaded.provenance.map {
            ApplyWorkflow.CommitRecord(store: records, key: $0.key, commit: $0.commit.id.hex, signer: $0.signer?.description)
        }
        request.maxParallel = parallel
        request.images = ImageCache(directory: imageCache ?? ImageCache.defaultDirectory())
        request.transferProgress = TransferLine.sink(enabled: Environment.isTTY(2))

        var hooks = ApplyWorkflow.Hooks()
        let provenance = loaded.provenance
        hooks.adjust = { plan, _ in
            var annotated = plan
            Frontend.annotate(&annotated, provenance)
            return annotated
        }
        let color = colors.enabled
        let autoApprove = autoApprove
        hooks.approve = { plan, _ in
            print(TextRenderer(color: color).render(plan), terminator: "")
            guard !plan.isEmpty else { return true }
            guard try Self.confirm(plan, autoApprove: autoApprove) else { return false }
            print("")
            return true
        }
        let progressLine = Environment.isTTY(2)
        hooks.onStep = { r in
            if progressLine { FileHandle.standardError.write(Data(TransferLine.erase.utf8)) }
            let label = "\(r.step.action.rawValue) \(r.step.resource.kind.rawValue) \(r.step.resource.name) on \(r.step.resource.host)"
            switch r.outcome {
            case .succeeded: print("  ok      \(label) (\(String(format: "%.2f", r.seconds))s)")
            case .failed(let why): print("  FAILED  \(label): \(why)")
            case .skipped(let why): print("  skipped \(label): \(why)")
            }
            fflush(nil)
        }

        let outcome = try await workflow.run(request, hooks: hooks)
        if let refusal = outcome.refusal { throw EngineError(refusal.description) }
        if outcome.cancelled {
            print("Apply cancelled.")
            throw ExitCode(Exit.error)
        }
        if let report = outcome.report {
            print("\nApply: \(report.succeeded) succeeded, \(report.failed) failed, \(report.skipped) skipped.")
        }
        if !outcome.succeeded { throw ExitCode(Exit.error) }
    }

    /// Asks for confirmation on a terminal; refuses to guess without one.
    private static func confirm(_ plan: Plan, autoApprove: Bool) throws -> Bool {
        guard !autoApprove else { return true }
        guard Environment.isTTY(0) else {
            throw EngineError("not a terminal: pass --auto-approve to apply without confirmation")
        }
        let steps = plan.steps.count == 1 ? "this step" : "these \(plan.steps.count) steps"
        print("\nApply \(steps)? Only 'yes' is accepted: ", terminator: "")
        return readLine()?.trimmingCharacters(in: .whitespaces) == "yes"
    }
}
