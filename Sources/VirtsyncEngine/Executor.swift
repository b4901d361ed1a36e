import Foundation
import Logging
import VirtsyncCore

/// The outcome of one step.
public enum StepOutcome: Hashable, Codable, Sendable {
    case succeeded
    case failed(String)
    /// Not run because a step it depends on failed or was skipped.
    case skipped(String)
}

/// One step's result.
public struct StepResult: Hashable, Codable, Sendable {
    public var step: PlanStep
    public var outcome: StepOutcome
    public var seconds: Double
    /// What a migration measured (its downtime), for reports and benchmarks.
    public var migration: MigrationReport?

    public init(step: PlanStep, outcome: StepOutcome, seconds: Double, migration: MigrationReport? = nil) {
        self.step = step
        self.outcome = outcome
        self.seconds = seconds
        self.migration = migration
    }
}

/// What an apply did, step by step, in completion order.
public struct ApplyReport: Hashable, Codable, Sendable {
    public var results: [StepResult]
    public var succeeded: Int { results.filter { $0.outcome == .succeeded }.count }
    public var failed: Int { results.filter { if case .failed = $0.outcome { return true } else { return false } }.count }
    public var skipped: Int { results.filter { if case .skipped = $0.outcome { return true } else { return false } }.count }
    public var ok: Bool { failed == 0 && skipped == 0 }

    /// A report of `results`.
    public init(results: [StepResult]) { self.results = results }
}

/// Runs a plan's steps in dependency order with bounded parallelism. A failed step skips its
/// dependents (transitively) and nothing else.
public struct Executor: Sendable {
    /// Steps in flight at once, across all hosts.
    public var maxParallel: Int
    /// Steps in flight at once on one host.
    public var maxParallelPerHost: Int
    /// Where volumes made from images get their verified local copy; without one, such a
    /// volume's step fails (and only that step and its dependents).
    public var images: (any ImageStore)?
    /// Progress of image downloads and uploads.
    public var transferProgress: TransferProgressSink?
    let logger = Logger(label: "virtsync.engine")

    public init(maxParallel: Int = 8, maxParallelPerHost: Int = 4, images: (any ImageStore)? = nil,
                transferProgress: TransferProgressSink? = nil) {
        self.maxParallel = max(1, maxParallel)
        self.maxParallelPerHost = max(1, maxParallelPerHost)
        self.images = images
        self.transferProgress = transferProgress
    }

    /// Runs `plan` against `sessions` (by host name), recording created, adopted and deleted
    /// networks, pools and volumes in `inventory` (per host, under the plan's owner). `progress` is called
    /// after each step. Once `stop` is set, no further step starts: the steps in flight finish
    /// and the others are reported skipped.
    public func run(_ plan: Plan, sessions: [String: any HypervisorSession], inventory: InventoryStore,
                    stop: StopFlag? = nil, progress: @Sendable (StepResult) -> Void = { _ in }) async -> ApplyReport {
        var pending = plan.steps
        var done: [String: StepOutcome] = [:]
        var results: [StepResult] = []
        var inFlightPerHost: [String: Int] = [:]
        var inFlight = 0
        let ids = Set(plan.steps.map(\.id))
        var somethingFailed = false
        // Migrations not finished yet, per wave: a wave starts once the waves before it are over.
        var openWaves: [Int: Int] = plan.steps.reduce(into: [:]) { if let w = $1.wave { $0[w, default: 0] += 1 } }
        func waveOpen(_ step: PlanStep) -> Bool {
            guard let wave = step.wave else { return true }
            return !openWaves.contains { $0.key < wave && $0.value > 0 }
        }
        func finished(_ step: PlanStep) {
            guard let wave = step.wave else { return }
            openWaves[wave, default: 1] -= 1
        }

        // Completions arrive on a stream from unstructured tasks rather than through a task group:
        // Swift 6.3.1 release builds lose task-group child results of large value types.
        let (completions, continuation) = AsyncStream.makeStream(of: StepResult.self)
        var iterator = completions.makeAsyncIterator()
        while !pending.isEmpty || inFlight > 0 {
            // Settle what can be settled: skip steps whose dependencies did not succeed.
            var progressMade = somethingFailed
            somethingFailed = false
            while progressMade {
                progressMade = false
                for (i, step) in pending.enumerated().reversed() {
                    if let bad = step.dependsOn.first(where: { dep in
                        if let o = done[dep] { return o != .succeeded }
                        return false
                    }) {
                        let r = StepResult(step: step, outcome: .skipped("depends on \(bad), which did not succeed"), seconds: 0)
                        done[step.id] = r.outcome
                        results.append(r)
                        progress(r)
                        finished(step)
                        pending.remove(at: i)
                        progressMade = true
                    }
                }
            }
            func skipPending(_ why: String) {
                for step in pending {
                    let r = StepResult(step: step, outcome: .skipped(why), seconds: 0)
                    done[step.id] = r.outcome
                    finished(step)
                    results.append(r)
                    progress(r)
                }
                pending.removeAll()
            }
            if stop?.isSet == true {
                skipPending("the agent is stopping")
                if inFlight == 0 { break }
            }
            // Start every ready step within the bounds.
            var started = false
            var i = 0
            while i < pending.count && inFlight < maxParallel {
                let step = pending[i]
                let host = step.resource.host
                let ready = step.dependsOn.allSatisfy { done[$0] == .succeeded || !ids.contains($0) }
                guard ready, waveOpen(step), inFlightPerHost[host, default: 0] < maxParallelPerHost else { i += 1; continue }
                pending.remove(at: i)
                inFlight += 1
                inFlightPerHost[host, default: 0] += 1
                started = true
                let session = sessions[host]
                var destination: (any HypervisorSession)?
                if case .migration(let m) = step.payload { destination = sessions[m.to] }
                Task { [destination] in
                    continuation.yield(await self.execute(step, session: session, destination: destination, inventory: inventory,
                                                          owner: plan.basis.owner))
                }
            }
            if inFlight == 0 && !started {
                // Nothing runs and nothing can start: dependencies outside the plan never finish.
                skipPending("dependencies cannot be met")
                break
            }
            if let r = await iterator.next() {
                inFlight -= 1
                inFlightPerHost[r.step.resource.host, default: 1] -= 1
                done[r.step.id] = r.outcome
                finished(r.step)
                if r.outcome != .succeeded { somethingFailed = true }
                results.append(r)
                progress(r)
            }
        }
        continuation.finish()
        return ApplyReport(results: results)
    }

    private func execute(_ step: PlanStep, session: (any HypervisorSession)?, destination: (any HypervisorSession)?,
                         inventory: InventoryStore, owner: String?) async -> StepResult {
        let start = ContinuousClock.now
        func elapsed() -> Double {
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        guard let session else {
            return StepResult(step: step, outcome: .failed("no connection to host \(step.resource.host)"), seconds: 0)
        }
        if case .migration(let migration) = step.payload {
            return await migrate(step, migration, session: session, destination: destination, elapsed: elapsed)
        }
        let kind = step.resource.kind
        // Domains and secret objects carry virtsync's marker themselves; the rest are in the inventory.
        let tracked = kind != .domain && kind != .secret
        var step = step
        do {
            if case .volume(var volume) = step.payload, case .image(let image) = volume.source,
               step.action == .create || step.action == .replace {
                // Fetched (or found in the cache) and verified before anything is created, so a
                // wrong digest or an unreachable URL fails this step with nothing made.
                guard let images else {
                    throw ImageError(.other, "no image cache is configured to fetch \(image.location)")
                }
                let local = try await images.localImage(image, as: volume.format, for: volume.key, progress: transferProgress)
                logger.info("image ready", metadata: ["resource": "\(step.resource)", "host": "\(step.resource.host)",
                                                      "image": "\(image.location)", "sha256": "\(image.sha256)", "bytes": "\(local.length)"])
                volume.localImage = local
                step.payload = .volume(volume)
            }
            if tracked, step.action == .create || step.action == .replace {
                var digest: String?
                var imageDigest: String?
                if case .volume(let v) = step.payload, case .generated(let d) = v.source { digest = d }
                if case .volume(let v) = step.payload, case .image(let image) = v.source { imageDigest = image.sha256 }
                try await inventory.recordPending(host: session.hostKey, kind: kind, name: step.resource.name, owner: owner,
                                                  generatedDigest: digest, imageDigest: imageDigest)
            }
            // Adopting a network, pool or volume checks that it is still the one planned, then
            // only records it.
            let planned = step
            try await TransferProgressContext.with(transferProgress) { try await session.apply(planned) }
            if tracked {
                // What raw XML a network or pool was written with: its entry is the record.
                var hatchPaths: [String]?
                if case .network(let n) = step.payload { hatchPaths = Hatch.paths(of: Hatch.leaves(n.extraXML, in: .network)) }
                if case .pool(let p) = step.payload { hatchPaths = Hatch.paths(of: Hatch.leaves(p.extraXML, in: .pool)) }
                if step.action == .create || step.action == .replace {
                    try await inventory.recordPresent(host: session.hostKey, kind: kind, name: step.resource.name, owner: owner,
                                                      hatchPaths: hatchPaths)
                } else if step.action == .update, let hatchPaths {
                    try await inventory.recordHatch(host: session.hostKey, kind: kind, name: step.resource.name, paths: hatchPaths)
                } else if step.action == .adopt, case .adopted(let uuid) = step.payload {
                    try await inventory.recordPresent(host: session.hostKey, kind: kind, name: step.resource.name, owner: owner, uuid: uuid)
                } else if step.action == .delete {
                    try await inventory.remove(host: session.hostKey, kind: kind, name: step.resource.name)
                }
            }
            logger.info("step done", metadata: ["action": "\(step.action.rawValue)", "resource": "\(step.resource)", "host": "\(step.resource.host)"])
            return StepResult(step: step, outcome: .succeeded, seconds: elapsed())
        } catch {
            // libvirt refused the create (e.g. the name is taken by something else): the pending
            // entry must not make that thing virtsync's. Timeouts leave it: the create may have
            // happened, and the next pass adopts or re-creates it. So does a volume whose
            // content did not arrive (`.incomplete`): the entry keeps it unconfirmed, and the
            // next pass makes it again instead of using it.
            if tracked, step.action == .create, let e = error as? HypervisorError, e.code == .rejected {
                try? await inventory.remove(host: session.hostKey, kind: kind, name: step.resource.name)
            }
            logger.notice("step failed", metadata: ["action": "\(step.action.rawValue)", "resource": "\(step.resource)",
                                                    "host": "\(step.resource.host)", "error": "\(error)"])
            return StepResult(step: step, outcome: .failed("\(error)"), seconds: elapsed())
        }
    }

    private func migrate(_ step: PlanStep, _ migration: Migration, session: any HypervisorSession,
                         destination: (any HypervisorSession)?, elapsed: () -> Double) async -> StepResult {
        guard let destination else {
            return StepResult(step: step, outcome: .failed("no connection to the destination host \(migration.to); the VM stays on \(migration.from)"),
                              seconds: 0)
        }
        do {
            let report = try await session.migrate(step, migration, destination: destination)
            logger.info("migrated", metadata: ["resource": "\(step.resource)", "from": "\(migration.from)", "to": "\(migration.to)",
                                               "seconds": "\(report.seconds)",
                                               "downtime_ms": "\(report.downtimeMilliseconds.map { "\($0)" } ?? "unknown")"])
            return StepResult(step: step, outcome: .succeeded, seconds: elapsed(), migration: report)
        } catch {
            logger.notice("migration failed", metadata: ["resource": "\(step.resource)", "from": "\(migration.from)",
                                                         "to": "\(migration.to)", "error": "\(error)"])
            return StepResult(step: step, outcome: .failed("\(error); the VM stays on \(migration.from)"), seconds: elapsed())
        }
    }
}
