import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// `virtsync show PLANFILE`: a saved plan (from `plan --out`) rendered again, in any format.
/// Reads no spec and no host.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Render a saved plan (from `plan --out`) as text, Markdown or JSON. Reads no host.",
        discussion: """
        Examples:
          virtsync plan ./spec --out plan.json && virtsync show plan.json
          virtsync show plan.json --format markdown > comment.md
          virtsync show plan.json --detailed-exitcode   # 0: no changes, 2: changes
        """)

    @Argument(help: "The plan file (JSON, as `plan --out` writes it).")
    var planFile: String

    @Option(name: .long, help: "Output format: text, markdown or json.")
    var format: PlanFormat = .text

    @Flag(name: .long, help: "Exit 0 when the plan has no changes, 2 when it has, 1 on error.")
    var detailedExitcode = false

    @OptionGroup var colors: ColorOptions

    func run() throws {
        let plan: Plan
        do {
            guard let bytes = FileManager.default.contents(atPath: planFile) else {
                throw EngineError("cannot read \(planFile): \(FileManager.default.fileExists(atPath: planFile) ? "permission denied" : "no such file")")
            }
            do {
                plan = try JSONRenderer.decode(Array(bytes))
            } catch let refusal as PlanRefusal {
                throw EngineError("\(planFile): \(refusal)")
            } catch {
                throw EngineError("\(planFile) is not a plan file of virtsync: \(error)")
            }
            print(try Frontend.render(plan, format: format, color: colors.enabled), terminator: "")
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        if plan.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
        if detailedExitcode && !plan.isEmpty { throw ExitCode(Exit.changes) }
    }
}
