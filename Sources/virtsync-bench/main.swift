import CLibvirt
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine
import VirtsyncLibvirt
import VirtsyncSpec

// virtsync-bench: prints validate and plan figures (time, peak memory) for generated specs,
// next to the time libvirt itself takes to list the same domains and return their XML.
//
//   virtsync-bench [--uri URI] [--sizes 100,1000,5000] [--no-libvirt] [--git-files 1000 | --no-git]
//   virtsync-bench --agent-only [--uri URI] [--agent-domains 1000] [--agent-rounds 10]
//   virtsync-bench --small-only [--uri URI] [--small-vms 20] [--small-rounds 3]   (needs .build/release/virtsync beside it;
//       create + start and a no-op apply of tiny guests, each beside its floor, and Ansible's run of the same guests)
//   virtsync-bench --migration-only [--migration-vms 20] [--migration-per-host 4] [--migration-per-cluster 4]
//   virtsync-bench --ha-only [--ha-kills 20] [--ha-vms 10] [--etcd-election MS]   (root and the testbed;
//       exits 3 without them, 1 when a kill never recovered or a double run was seen)
//   virtsync-bench --ha-campaign [--faults 200] [--ha-vms 6] [--campaign-seed S] [--etcd-election 500]   (root, testbed;
//       randomized faults on real etcd, agents and guests; exits 1 on a double run or a VM not recovered)
//   virtsync-bench --ha-sim [--seeds 10000] [--from 0] [--jobs N] [--variants] [--variant-budget 1000]
//   virtsync-bench --ha-sim --show SEED [--variant no-self-fence|no-guard|deadline-from-reply|no-epoch-check]
//       (the HA simulation; exits 1 on any violation, or a broken variant not caught; --show prints one run's trace)
//
// Each measurement runs in a child process of its own so that peak memory (ru_maxrss) is the
// measurement's, not the whole run's.

BrokenPipes.ignore()
let args = CommandLine.arguments
BenchArguments.check(Array(args.dropFirst()))
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let prefix = "bench-"
let poolPath = "/var/lib/virtsync/bench-pool"

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func peakMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
func emit(_ values: [String: Double]) {
    let text = values.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
    print(text)
    fflush(nil)
}

func load(_ n: Int) -> DesiredState? {
    let files = SpecGenerator.files(vms: n, prefix: prefix, poolPath: poolPath, withVolumes: false)
    return SpecLoader.load(files: files).desired
}

/// Child: validate N VMs.
func childValidate(_ n: Int) {
    let files = SpecGenerator.files(vms: n, prefix: prefix, poolPath: poolPath, withVolumes: false)
    let clock = ContinuousClock()
    var result: SpecLoadResult?
    let t = clock.measure { result = SpecLoader.load(files: files) }
    guard result?.desired != nil else {
        print("error=1 # generated spec did not validate: \(result?.diagnostics.description.prefix(500) ?? "")")
        exit(1)
    }
    emit(["validate_s": seconds(t), "peak_mib": peakMiB()])
}

/// Child: make libvirt match the generated spec (not timed as part of plan).
func childSetup(_ n: Int, uri: String, state: String) async throws {
    guard let desired = load(n) else { exit(1) }
    let workflow = ApplyWorkflow(connector: LibvirtConnector(), inventory: try InventoryStore(stateDirectory: state), defaultURI: uri)
    let outcome = try await workflow.apply(desired, maxParallel: 4)
    emit(["setup_steps": Double(outcome.plan.steps.count), "setup_failed": Double(outcome.report?.failed ?? 0)])
}

/// Child: libvirt's own listing (list all domains, fetch each persistent XML), no virtsync code.
func childListing(uri: String) {
    let clock = ContinuousClock()
    var count = 0
    let t = clock.measure {
        guard let conn = virConnectOpen(uri) else { return }
        defer { virConnectClose(conn) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = virConnectListAllDomains(conn, &list, 0)
        guard n >= 0, let list else { return }
        for i in 0..<Int(n) {
            guard let dom = list[i] else { continue }
            if let xml = virDomainGetXMLDesc(dom, UInt32(VIR_DOMAIN_XML_INACTIVE.rawValue)) {
                count += strlen(xml) > 0 ? 1 : 0
                free(xml)
            }
            virDomainFree(dom)
        }
        free(list)
    }
    emit(["listing_s": seconds(t), "domains": Double(count), "peak_mib": peakMiB()])
}

/// Child: a whole plan as `virtsync plan --connect URI` makes it (libvirt read while the spec
/// loads, then the diff), then its parts one by one.
func childPlan(_ n: Int, uri: String, state: String) async throws {
    let files = SpecGenerator.files(vms: n, prefix: prefix, poolPath: poolPath, withVolumes: false)
    let clock = ContinuousClock()
    let start = clock.now
    let reconciler = Reconciler(reader: ReadOnlyConnector(LibvirtConnector()), inventory: try InventoryStore(stateDirectory: state), defaultURI: uri)
    let prefetch = reconciler.prefetch(uri: uri)
    guard let desired = SpecLoader.load(files: files).desired else { exit(1) }
    let loaded = clock.now
    let (sessions, failed, observed) = await reconciler.read(desired, prefetch: prefetch)
    let read = clock.now
    let plan = await reconciler.plan(desired, observed: observed, options: PlanOptions())
    let end = clock.now
    // The parts again, one by one, for the breakdown (not part of the total).
    let fingerprint = clock.measure { _ = Fingerprint.of(observed) }
    var observeAgain = ObservedState()
    let observeOnly = await clock.measure { observeAgain = await reconciler.observe(desired, sessions: sessions, failed: failed) }
    let diffOnly = clock.measure { _ = Planner.plan(desired: desired, observed: observeAgain, fingerprint: "") }
    emit(["plan_total_s": seconds(end - start), "validate_s": seconds(loaded - start), "after_validate_s": seconds(end - loaded),
          "read_done_s": seconds(read - start), "plan_after_read_s": seconds(end - read),
          "observe_s": seconds(observeOnly), "diff_s": seconds(diffOnly), "fingerprint_s": seconds(fingerprint),
          "plan_steps": Double(plan.steps.count), "peak_mib": peakMiB()])
}

/// Child: connect and observe the host once (no spec), for profiles of the read alone.
func childObserve(uri: String) async throws {
    let clock = ContinuousClock()
    var count = 0
    let t = try await clock.measure {
        let session = try await ReadOnlyConnector(LibvirtConnector()).connectReader(host: "local", uri: uri)
        count = try await session.observe(host: "local").domains.count
    }
    emit(["observe_s": seconds(t), "domains": Double(count), "peak_mib": peakMiB()])
}

/// Child: remove what setup made.
func childTeardown(_ n: Int, uri: String, state: String, owner: String?) async throws {
    guard var desired = load(1) else { exit(1) }
    desired.owner = owner ?? desired.owner
    desired.hosts[0].domains = []
    desired.settings = SpecSettings(prune: true, maxDeleteFraction: 1, deleteVolumesWithVM: true)
    desired.hosts[0].networks = []
    desired.hosts[0].pools = []
    let workflow = ApplyWorkflow(connector: LibvirtConnector(), inventory: try InventoryStore(stateDirectory: state), defaultURI: uri)
    let outcome = try await workflow.apply(desired, options: PlanOptions(prune: true), maxParallel: 4)
    emit(["teardown_steps": Double(outcome.plan.steps.count), "teardown_failed": Double(outcome.report?.failed ?? 0)])
}

/// Runs this program as a child with `arguments` and parses its `key=value` line.
func child(_ arguments: [String]) throws -> [String: Double] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    var out: [String: Double] = [:]
    for pair in String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let kv = pair.split(separator: "=", maxSplits: 1)
        if kv.count == 2, let v = Double(kv[1]) { out[String(kv[0])] = v }
    }
    if p.terminationStatus != 0 { out["error"] = 1 }
    return out
}

let uri = option("--uri") ?? ProcessInfo.processInfo.environment["VIRTSYNC_BENCH_URI"] ?? "qemu:///system"
let state = option("--state") ?? NSTemporaryDirectory() + "virtsync-bench-state"

if let phase = option("--child"), let n = Int(option("--n") ?? "0") {
    switch phase {
    case "validate": childValidate(n)
    case "setup": try await childSetup(n, uri: uri, state: state)
    case "listing": childListing(uri: uri)
    case "observe": try await childObserve(uri: uri)
    case "plan": try await childPlan(n, uri: uri, state: state)
    case "teardown": try await childTeardown(n, uri: uri, state: state, owner: option("--owner"))
    default: exit(2)
    }
    exit(0)
}

if args.contains("--agent-only") {
    let uri = option("--uri") ?? "qemu:///system"
    try await AgentBench.run(domains: Int(option("--agent-domains") ?? "1000") ?? 1000, uri: uri,
                             rounds: max(1, Int(option("--agent-rounds") ?? "10") ?? 10))
    exit(0)
}
if args.contains("--small-only") {
    exit(try SmallBench.run(vms: Int(option("--small-vms") ?? "20") ?? 20, uri: option("--uri") ?? "qemu:///system",
                            rounds: max(1, Int(option("--small-rounds") ?? "3") ?? 3)))
}
if args.contains("--migration-only") {
    try await MigrationBench.run(vms: Int(option("--migration-vms") ?? "20") ?? 20,
                                 maxPerHost: Int(option("--migration-per-host") ?? "4") ?? 4,
                                 maxPerCluster: Int(option("--migration-per-cluster") ?? "4") ?? 4)
    exit(0)
}
if args.contains("--ha-only") {
    exit(await HABench.run(kills: Int(option("--ha-kills") ?? "20") ?? 20, vms: Int(option("--ha-vms") ?? "10") ?? 10,
                           etcdElection: option("--etcd-election").map { Int($0) ?? -1 }))
}
if args.contains("--ha-sim"), let seed = option("--show") {
    exit(HASimBench.show(seed: UInt64(seed) ?? 0, variant: option("--variant")))
}
if args.contains("--ha-sim") {
    exit(HASimBench.run(seeds: Int(option("--seeds") ?? "10000") ?? 10000, from: UInt64(option("--from") ?? "0") ?? 0,
                        jobs: Int(option("--jobs") ?? "") ?? ProcessInfo.processInfo.activeProcessorCount,
                        variants: args.contains("--variants"), budget: Int(option("--variant-budget") ?? "1000") ?? 1000))
}
if args.contains("--ha-campaign") {
    exit(await HACampaign.run(faults: Int(option("--faults") ?? "200") ?? 200, vms: Int(option("--ha-vms") ?? "6") ?? 6,
                              seed: UInt64(option("--campaign-seed") ?? "") ?? UInt64(Date().timeIntervalSince1970),
                              etcdElection: Int(option("--etcd-election") ?? "500") ?? -1))
}
if args.contains("--git-only") {
    try GitBench.run(files: Int(option("--git-files") ?? "1000") ?? 1000)
    exit(0)
}

let sizes = (option("--sizes") ?? "100,1000,5000").split(separator: ",").compactMap { Int($0) }
let withLibvirt = !args.contains("--no-libvirt")
let rounds = max(1, Int(option("--rounds") ?? "5") ?? 5)
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
print("virtsync-bench: \(sizes.map(String.init).joined(separator: ", ")) VMs; libvirt: \(withLibvirt ? uri : "skipped")\(withLibvirt ? "; \(rounds) rounds, libvirt's listing and the plan alternating, medians (best)" : "")")
print("")
print("   VMs | validate s | validate MiB | libvirt list s        | plan total s          | plan/libvirt median (best) | plan MiB")
print("-------+------------+--------------+-----------------------+-----------------------+----------------------------+---------")
struct Row { var n: Int; var validate: Double; var list: Double; var plan: Double; var planPeak: Double; var validatePeak: Double }
var rows: [Row] = []
for n in sizes {
    let v = try child(["--child", "validate", "--n", String(n)])
    var row = String(format: "%6d | %10.3f | %12.1f", n, v["validate_s"] ?? -1, v["peak_mib"] ?? -1)
    var record = Row(n: n, validate: v["validate_s"] ?? -1, list: .nan, plan: .nan, planPeak: .nan, validatePeak: v["peak_mib"] ?? -1)
    if withLibvirt {
        let runState = state + "-\(n)"
        try? FileManager.default.removeItem(atPath: runState)
        let s = try child(["--child", "setup", "--n", String(n), "--uri", uri, "--state", runState])
        if s["setup_failed"] ?? 1 > 0 { print("setup failed for \(n) VMs: \(s)") }
        // Warm up libvirt once, then alternate the two sides, each run in its own process: the
        // machine's speed drifts (a shared 2-core VM), so a pair is measured under the same drift.
        _ = try child(["--child", "listing", "--uri", uri])
        var lists: [Double] = []
        var plans: [[String: Double]] = []
        for r in 0..<rounds {
            let listing = { lists.append(try child(["--child", "listing", "--uri", uri])["listing_s"] ?? .infinity) }
            let planning = { plans.append(try child(["--child", "plan", "--n", String(n), "--uri", uri, "--state", runState])) }
            if r % 2 == 0 { try listing(); try planning() } else { try planning(); try listing() }
        }
        let totals = plans.map { $0["plan_total_s"] ?? .infinity }
        let list = median(lists)
        let total = median(totals)
        let bestList = lists.min() ?? .nan
        let bestPlan = totals.min() ?? .nan
        let peak = median(plans.map { $0["peak_mib"] ?? .nan })
        record.list = list
        record.plan = total
        record.planPeak = peak
        row += String(format: " | %8.3f s (%.3f s) | %8.3f s (%.3f s) | %12.2fx (%.2fx)     | %7.1f",
                      list, bestList, total, bestPlan, total / list, bestPlan / bestList, peak)
        if let steps = plans.first?["plan_steps"], steps != 0 { row += "  (plan not empty: \(Int(steps)) steps)" }
        _ = try child(["--child", "teardown", "--n", String(n), "--uri", uri, "--state", runState])
    }
    rows.append(record)
    print(row)
}
if rows.count > 1, let first = rows.first {
    print("")
    for row in rows.dropFirst() {
        var line = String(format: "growth %d -> %d VMs (x%.0f): validate x%.1f", first.n, row.n, Double(row.n) / Double(first.n), row.validate / first.validate)
        if withLibvirt {
            line += String(format: ", libvirt's listing x%.1f, plan x%.1f, plan memory %.0f -> %.0f MiB", row.list / first.list, row.plan / first.plan, first.planPeak, row.planPeak)
        }
        print(line)
    }
}
if !args.contains("--no-git") {
    try GitBench.run(files: Int(option("--git-files") ?? "1000") ?? 1000)
}
