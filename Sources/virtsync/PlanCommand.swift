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
        let (loaded, diagnostics) = Frontend.load(spec.path)
        guard let desired = loaded else {
            Environment.printError(diagnostics.description)
            throw ExitCode(Exit.error)
        }
        if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
        do {
            try Frontend.checkConnect(desired, host)
            let reconciler = try Frontend.reconciler(host)
            let (sessions, failed) = await reconciler.connect(desired)
            let (plan, observed) = await reconciler.plan(desired, sessions: sessions, failed: failed,
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
