import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

extension PlanFormat: ExpressibleByArgument {}

/// `virtsync plan`: what apply would do. Gets only a reader's worth of work: it never calls a
/// writer. With `--base`, a review plan: no host is read at all.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change on each host. Changes nothing.",
        discussion: """
        With --repo and --base REV --head REV, plans the change from the base commit to the head commit \
        without reading any host, assuming the base is what runs: the plan for a pull request.

        Examples:
          virtsync plan examples/lab --connect qemu:///system
          virtsync plan examples/lab --out plan.json --detailed-exitcode
          virtsync plan --repo . --base main --head feature --format markdown
        """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var host: HostOptions
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "Review plan: the commit assumed to be running (with --repo). No host is read.")
    var base: String?

    @Option(name: .long, help: "The commit to plan (with --repo; the same as --ref).")
    var head: String?

    @Option(name: .long, help: "Output format: text, markdown or json.")
    var format: PlanFormat = .text

    @Option(name: .long, help: "Also save the plan (JSON) to this file, for `apply --plan`.")
    var out: String?

    @Option(name: .long, help: "Markdown: also write the comment's parts to DIR/plan-part-N.md (split below --comment-limit).")
    var partsDir: String?

    @Option(name: .long, help: "Markdown: largest part, in bytes (GitHub's comment limit is 65536).")
    var commentLimit: Int = 65_536

    @Flag(name: .long, help: "Exit 0 when there are no changes, 2 when there are, 1 on error.")
    var detailedExitcode = false

    @OptionGroup var colors: ColorOptions

    func validate() throws {
        try source.requireSource()
        if (base != nil || head != nil) && source.repo == nil { throw ValidationError("--base and --head need --repo") }
        if head != nil && source.ref != nil && head != source.ref { throw ValidationError("give --head or --ref, not both") }
        if base != nil && host.connect != nil { throw ValidationError("a review plan (--base) reads no host: --connect does not apply") }
        if partsDir != nil && format != .markdown { throw ValidationError("--parts-dir needs --format markdown") }
        if commentLimit < 4_096 { throw ValidationError("--comment-limit must be at least 4096") }
    }

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        do {
            let plan = try await (base != nil ? reviewPlan() : livePlan())
            try output(plan)
            if plan.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
            if detailedExitcode && !plan.isEmpty { throw ExitCode(Exit.changes) }
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

    /// Plans against the live hosts.
    private func livePlan() async throws -> Plan {
        try await Frontend.livePlan(source, host: host, secrets: secrets, ref: head)
    }

    /// Plans head against the state base would have produced, reading no host.
    private func reviewPlan() async throws -> Plan {
        guard let base else { throw ValidationError("--base is missing") }
        let source = try Frontend.repositorySource(self.source, stateDir: host.resolvedStateDir)
        _ = try source.repository.fetch()
        let baseID = try source.repository.resolve(base)
        let headRead = try await source.read(ref: head ?? self.source.ref, path: self.source.path, verifySince: baseID, fetch: false)
        let baseRead = try await RepositorySource(repository: source.repository, verifier: nil)
            .read(ref: baseID.hex, path: self.source.path, fetch: false)
        let url = source.repository.displayURL
        let baseSpec = Frontend.loaded(baseRead, options: self.source, repository: url)
        let headSpec = Frontend.loaded(headRead, options: self.source, repository: url)
        guard let unbound = headSpec.desired else { throw headSpec.diagnostics }
        if !headSpec.diagnostics.items.isEmpty { Environment.printError(headSpec.diagnostics.description) }
        // No secret is read for a review: each stands in as what the commits show of it.
        let review = ReviewSecrets()
        let headDesired = await review.bind(unbound)
        var assumed = ObservedState()
        if let baseDesired = baseSpec.desired {
            assumed = ObservedState.assuming(await review.bind(baseDesired))
        } else if !baseRead.files.contains(where: \.isSpecDocument)
                    && baseRead.readDiagnostics.items.contains(where: { $0.message.contains("does not exist in commit") }) {
            // The change creates the spec directory: nothing of it runs yet.
        } else {
            throw EngineError("the spec at the base commit \(baseID.short) is invalid, so there is nothing to compare with:\n\(baseSpec.diagnostics)")
        }
        for h in headDesired.hosts where assumed.hosts[h.name] == nil {
            assumed.hosts[h.name] = ObservedHost(name: h.name)   // a host new in head: empty
        }
        var plan = Planner.plan(desired: headDesired, observed: assumed,
                                options: PlanOptions(prune: host.prune, source: nil, recorded: ["review": "true"]))
        plan.basis.baseCommit = baseID.hex
        if !unbound.pendingSecrets.isEmpty || !unbound.pendingVolumeSecrets.isEmpty {
            plan.notes.append(PlanNote(severity: .info, message: "review plan: no secret was read; a secret shows as changed when its encrypted file or its host file's path changed, and its digests here are not the hosts' digests"))
        }
        Frontend.annotate(&plan, headSpec.provenance)
        return plan
    }

    private func output(_ plan: Plan) throws {
        if format == .markdown {
            let parts = MarkdownRenderer().renderParts(plan, limit: commentLimit)
            print(parts.joined(separator: "\n"), terminator: "")
            if let partsDir {
                try FileManager.default.createDirectory(atPath: partsDir, withIntermediateDirectories: true)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: partsDir)) ?? [] where name.hasPrefix("plan-part-") {
                    try FileManager.default.removeItem(atPath: partsDir + "/" + name)
                }
                for (index, part) in parts.enumerated() {
                    try AtomicFile.write(path: "\(partsDir)/plan-part-\(index + 1).md", data: Data(part.utf8))
                }
            }
        } else {
            print(try Frontend.render(plan, format: format, color: colors.enabled), terminator: "")
        }
        if let out {
            try AtomicFile.write(path: out, data: Data(try Frontend.render(plan, format: .json, color: false).utf8))
        }
    }
}
