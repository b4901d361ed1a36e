import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine

extension PlanFormat: ExpressibleByArgument {}

/// `virtsync plan PATH`: what apply would do. Gets only a reader's worth of work: it never
/// calls a writer.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Show what apply would change on each host. Changes nothing.")

    @OptionGroup var spec: SpecOptions
    @OptionGroup var host: HostOptions

    @Option(name: .long, help: "Output format: text, markdown or json.")
    var format: PlanFormat = .text

    @Option(name: .long, help: "Also save the plan (JSON) to this file, for `apply --plan`.")
    var out: String?

    @Flag(name: .long, help: "Exit 0 when there are no changes, 2 when there are, 1 on error.")
    var detailedExitcode = false

    @Flag(name: .long, help: "No colour in text output.")
    var noColor = false

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        let reconciler: Reconciler
        do { reconciler = try Frontend.reconciler(host) } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        // With the URI given, reading libvirt overlaps with loading the spec.
        let prefetch = Frontend.explicitURI(host).map { reconciler.prefetch(uri: $0) }
        let (loaded, diagnostics) = Frontend.load(spec.path)
        guard var desired = loaded else {
            prefetch?.cancel()
            Environment.printError(diagnostics.description)
            throw ExitCode(Exit.error)
        }
        if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
        do {
            try Frontend.applyConnect(&desired, host)
            let (_, _, observed) = await reconciler.read(desired, prefetch: prefetch)
            let plan = await reconciler.plan(desired, observed: observed,
                                             options: Frontend.planOptions(spec.path, host, uri: reconciler.defaultURI))
            print(try Frontend.render(plan, format: format, color: !noColor && Environment.isTTY(1)), terminator: "")
            if let out {
                try AtomicFile.write(path: out, data: Data(try Frontend.render(plan, format: .json, color: false).utf8))
            }
            try SafetyGuard.checkMassDelete(plan, observed: observed, maxFraction: desired.settings.maxDeleteFraction, allow: host.allowMassDelete)
            if plan.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
            if detailedExitcode && !plan.isEmpty { throw ExitCode(Exit.changes) }
        } catch let e as ExitCode {
            throw e
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }
}
