import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

/// `virtsync apply PATH`, `virtsync apply --repo URL` or `virtsync apply --plan FILE`.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the hosts match the spec (or carry out a saved plan).")

    @OptionGroup var source: SourceOptions
    @OptionGroup var host: HostOptions

    @Option(name: .long, help: "Carry out this saved plan (from `plan --out`); refused if the spec, the commit or the hosts moved since.")
    var plan: String?

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var autoApprove = false

    @Flag(name: .long, help: "Apply a commit that does not descend from the last applied one (after a force-push, or to go back to an older commit).")
    var allowHistoryRewrite = false

    @Option(name: .long, help: "Steps run at once (across hosts).")
    var parallel: Int = 8

    @Flag(name: .long, help: "No colour in text output.")
    var noColor = false

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
        let reconciler = try Frontend.reconciler(host)
        let last = try Frontend.lastApplied(source, records: records)
        let loaded = try Frontend.load(source, stateDir: stateDir, ref: pinned, lastApplied: last)
        guard var desired = loaded.desired else { throw loaded.diagnostics }
        if let rewrite = loaded.provenance?.historyRewrite, !allowHistoryRewrite {
            throw EngineError("refused: \(rewrite). Nothing was applied. Review the change, then apply it with --allow-history-rewrite")
        }
        try Frontend.applyConnect(&desired, host)
        // One writer per host: the hosts are read only once their locks are held, so the plan
        // is made from what no other virtsync changes meanwhile.
        let (sessions, unreachable) = await reconciler.connect(desired)
        let locks = try await HostLock.acquireAll(directory: host.resolvedHostsDir, hostKeys: sessions.values.map(\.hostKey),
                                                  holder: "virtsync apply, pid \(getpid()), owner \(desired.owner ?? "none")",
                                                  timeout: .seconds(max(0, host.lockTimeout)))
        defer { locks.forEach { $0.release() } }
        let observed = await reconciler.observe(desired, sessions: sessions, failed: unreachable)
        var options = Frontend.planOptions(source, host, uri: reconciler.defaultURI)
        if let saved { options.prune = saved.basis.options["prune"] == "true" }
        var fresh = await reconciler.plan(desired, observed: observed, options: options)
        Frontend.annotate(&fresh, loaded.provenance)

        let toRun: Plan
        if let saved {
            try Self.check(saved, against: fresh)
            toRun = saved
        } else {
            toRun = fresh
        }
        let allowMass = host.allowMassDelete || toRun.basis.options["allow_mass_delete"] == "true"
        try SafetyGuard.checkMassDelete(toRun, observed: observed, maxFraction: desired.settings.maxDeleteFraction, allow: allowMass,
                                        owner: desired.owner)

        let color = !noColor && Environment.isTTY(1)
        print(TextRenderer(color: color).render(toRun), terminator: "")
        let planErrors = toRun.notes.contains(where: { $0.severity == .error })
        if toRun.isEmpty {
            if planErrors { throw ExitCode(Exit.error) }
            try record(loaded.provenance, in: records, error: nil)
            return
        }
        try confirm(toRun)
        print("")
        if let provenance = loaded.provenance {
            try records.update(provenance.key) { r in
                r.lastAttempted = provenance.commit.id.hex
                r.lastAttemptedAt = Date()
                r.lastError = nil
            }
        }
        try await reconciler.forgetAbsent(observed, sessions: sessions)
        let report = await Executor(maxParallel: parallel).run(toRun, sessions: sessions, inventory: reconciler.inventory) { r in
            let label = "\(r.step.action.rawValue) \(r.step.resource.kind.rawValue) \(r.step.resource.name) on \(r.step.resource.host)"
            switch r.outcome {
            case .succeeded: print("  ok      \(label) (\(String(format: "%.2f", r.seconds))s)")
            case .failed(let why): print("  FAILED  \(label): \(why)")
            case .skipped(let why): print("  skipped \(label): \(why)")
            }
            fflush(nil)
        }
        print("\nApply: \(report.succeeded) succeeded, \(report.failed) failed, \(report.skipped) skipped.")
        let failed = !report.ok || planErrors
        try record(loaded.provenance, in: records, error: failed ? "\(report.failed) failed, \(report.skipped) skipped" : nil)
        if failed { throw ExitCode(Exit.error) }
    }

    /// A saved plan runs only if it is what virtsync would plan now.
    static func check(_ saved: Plan, against fresh: Plan) throws {
        guard saved.basis.commit == fresh.basis.commit else {
            throw EngineError("the plan was made for commit \(saved.basis.commit?.prefix(12) ?? "none"), not \(fresh.basis.commit?.prefix(12) ?? "none")")
        }
        guard saved.basis.specDigest == fresh.basis.specDigest else {
            throw EngineError("the spec changed since the plan was made (spec \(saved.basis.specDigest.prefix(12)) → \(fresh.basis.specDigest.prefix(12))); run plan again")
        }
        guard saved.basis.observedFingerprint == fresh.basis.observedFingerprint else {
            throw EngineError("the hosts changed since the plan was made; run plan again")
        }
        guard saved.basis.options["connect"] == fresh.basis.options["connect"] else {
            throw EngineError("the plan was made for \(saved.basis.options["connect"] ?? "another host"), not \(fresh.basis.options["connect"] ?? "this one")")
        }
        // Same spec, same hosts: the same plan, unless the file was edited. Carry out only
        // what was reviewed and what virtsync would plan itself.
        guard saved.steps == fresh.steps else {
            throw EngineError("the saved plan's steps differ from what this spec and these hosts give; the plan file was edited or made by another virtsync version")
        }
    }

    private func confirm(_ plan: Plan) throws {
        guard !autoApprove else { return }
        guard Environment.isTTY(0) else {
            throw EngineError("not a terminal: pass --auto-approve to apply without confirmation")
        }
        print("\nApply these \(plan.steps.count) steps? Only 'yes' is accepted: ", terminator: "")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
            print("Apply cancelled.")
            throw ExitCode(Exit.error)
        }
    }

    /// Records the outcome for a spec from git: the commit is the last applied one when every
    /// step succeeded, so the next apply verifies only what came after it.
    private func record(_ provenance: Provenance?, in records: SourceRecordStore, error: String?) throws {
        guard let provenance else { return }
        try records.update(provenance.key) { r in
            r.lastAttempted = provenance.commit.id.hex
            r.lastAttemptedAt = Date()
            r.lastError = error
            if error == nil {
                r.lastApplied = provenance.commit.id.hex
                r.lastAppliedSigner = provenance.signer?.description
                r.lastAppliedAt = Date()
            }
        }
    }
}
