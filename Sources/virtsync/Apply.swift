import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtsyncCore
import VirtsyncEngine

/// `virtsync apply PATH` or `virtsync apply --plan FILE`.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the hosts match the spec (or carry out a saved plan).")

    @Argument(help: "The spec directory (not needed with --plan).")
    var path: String?

    @OptionGroup var host: HostOptions

    @Option(name: .long, help: "Carry out this saved plan (from `plan --out`); refused if the spec or the hosts moved since.")
    var plan: String?

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var autoApprove = false

    @Option(name: .long, help: "Steps run at once (across hosts).")
    var parallel: Int = 8

    @Flag(name: .long, help: "No colour in text output.")
    var noColor = false

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        do {
            let lock = try ApplyLock(stateDirectory: host.resolvedStateDir)
            defer { lock.release() }
            try await apply()
        } catch let e as ExitCode {
            throw e
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }

    private func apply() async throws {
        var saved: Plan?
        var specPath = path
        if let planFile = plan {
            guard let bytes = FileManager.default.contents(atPath: planFile) else { throw EngineError("cannot read plan file \(planFile)") }
            let p = try JSONRenderer.decode(Array(bytes))
            saved = p
            if specPath == nil { specPath = p.basis.source }
        }
        guard let specPath else { throw ValidationError("give the spec directory, or --plan FILE") }
        let reconciler = try Frontend.reconciler(host)
        let prefetch = Frontend.explicitURI(host).map { reconciler.prefetch(uri: $0) }
        let (loaded, diagnostics) = Frontend.load(specPath)
        guard var desired = loaded else {
            prefetch?.cancel()
            Environment.printError(diagnostics.description)
            throw ExitCode(Exit.error)
        }
        try Frontend.applyConnect(&desired, host)
        let (sessions, _, observed) = await reconciler.read(desired, prefetch: prefetch)
        var options = Frontend.planOptions(specPath, host, uri: reconciler.defaultURI)
        if let saved { options.prune = saved.basis.options["prune"] == "true" }
        let fresh = await reconciler.plan(desired, observed: observed, options: options)

        let toRun: Plan
        if let saved {
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
            toRun = saved
        } else {
            toRun = fresh
        }
        let allowMass = host.allowMassDelete || toRun.basis.options["allow_mass_delete"] == "true"
        try SafetyGuard.checkMassDelete(toRun, observed: observed, maxFraction: desired.settings.maxDeleteFraction, allow: allowMass)

        let color = !noColor && Environment.isTTY(1)
        print(TextRenderer(color: color).render(toRun), terminator: "")
        if toRun.isEmpty {
            if toRun.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
            return
        }
        if !autoApprove {
            guard Environment.isTTY(0) else {
                throw EngineError("not a terminal: pass --auto-approve to apply without confirmation")
            }
            print("\nApply these \(toRun.steps.count) steps? Only 'yes' is accepted: ", terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print("Apply cancelled.")
                throw ExitCode(Exit.error)
            }
        }
        print("")
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
        if !report.ok || toRun.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
    }
}
