import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncLibvirt
import VirtsyncSpec
import VirtsyncTestSupport

/// Draining a host: 20 tiny VMs leave host-1 of a three-host testbed for the two others, once
/// as virtsync does it (a maintenance mark: waves of parallel peer-to-peer migrations) and once
/// as an operator would by hand (`virsh migrate`, one VM after the other, same moves).
enum MigrationBench {
    static func run(vms count: Int, maxPerHost: Int, maxPerCluster: Int) async throws {
        let testbed = try Testbed.up(hosts: 3, name: "vsbench")
        defer { try? testbed.down() }
        let state = NSTemporaryDirectory() + "virtsync-migbench-\(getpid())"
        let workflow = ApplyWorkflow(connector: LibvirtConnector(), inventory: try InventoryStore(stateDirectory: state))
        let names = (1...count).map { String(format: "mb-%02d", $0) }
        func spec(allowed: String, maintenance: Bool) throws -> DesiredState {
            var docs = testbed.hosts.map { host in
                "apiVersion: virtsync/v1\nkind: Host\nname: \(host.name)\nuri: \"\(host.uri)\"\nmigrationURI: \"\(host.peerURI)\"\n"
                    + "maintenance: \(maintenance && host.name == "host-1")\n"
            }
            docs.append("apiVersion: virtsync/v1\nkind: Settings\nmigration:\n  allowUnsafe: true\n  maxDowntime: 100ms\n"
                        + "  maxPerHost: \(maxPerHost)\n  maxPerCluster: \(maxPerCluster)\n")
            docs += names.map { name in
                "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: \(name)\nvcpus: 1\nmemory: 64MiB\nmachine: pc\n"
                    + "loader: /usr/share/qemu/qboot.rom\npower: running\nplacement:\n  hosts: [\(allowed)]\n"
            }
            let loaded = SpecLoader.load(files: [SpecFile(path: "bench.yaml", bytes: Array(docs.joined(separator: "---\n").utf8))])
            guard let desired = loaded.desired else { throw BenchError("bench spec invalid: \(loaded.diagnostics)") }
            return desired
        }
        func apply(_ desired: DesiredState) async throws -> (Duration, ApplyReport) {
            let start = ContinuousClock.now
            let outcome = try await workflow.apply(desired, options: PlanOptions(prune: true), maxParallel: 16, maxParallelPerHost: 16)
            let report = outcome.report ?? ApplyReport(results: [])
            guard outcome.succeeded else { throw BenchError("apply failed: \(report.results.filter { $0.outcome != .succeeded }.prefix(3))") }
            return (ContinuousClock.now - start, report)
        }

        print("setup: \(count) VMs on host-1 ...")
        _ = try await apply(try spec(allowed: "host-1", maintenance: false))
        let all = "host-1, host-2, host-3"
        _ = try await apply(try spec(allowed: all, maintenance: false))   // stickiness: nothing moves

        let (drainTime, drain) = try await apply(try spec(allowed: all, maintenance: true))
        let moves = drain.results.filter { $0.step.action == .migrate }
        let downtimes = moves.compactMap { $0.migration?.downtimeMilliseconds }
        let destinations: [(String, String)] = moves.compactMap { result in
            guard case .migration(let m) = result.step.payload else { return nil }
            return (result.step.resource.name, m.to)
        }
        print("virtsync drain: \(moves.count) migrations in \(format(drainTime)) (plan, waves of ≤\(maxPerCluster), ≤\(maxPerHost) per host)")

        // Back home (virtsync), then the same moves by hand, one by one.
        _ = try await apply(try spec(allowed: all, maintenance: false))
        let host1 = try testbed.host("host-1")
        let peers = Dictionary(uniqueKeysWithValues: testbed.hosts.map { ($0.name, $0) })
        var baselineDowntimes: [Double] = []
        let start = ContinuousClock.now
        for (name, to) in destinations.sorted(by: { $0.0 < $1.0 }) {
            guard let target = peers[to] else { continue }
            let result = try await Command.run("/usr/bin/virsh", ["-c", host1.uri, "migrate", "--live", "--p2p", "--persistent",
                                                                 "--undefinesource", "--unsafe", name, target.peerURI])
            guard result.succeeded else { throw BenchError("virsh migrate \(name): \(result.stderr)") }
        }
        let baselineTime = ContinuousClock.now - start
        for (name, to) in destinations {
            guard let target = peers[to],
                  let info = try? await Command.run("/usr/bin/virsh", ["-c", target.uri, "domjobinfo", "--completed", name]).stdout,
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Total downtime:") }),
                  let value = line.split(separator: " ").dropFirst(2).first.flatMap({ Double($0) }) else { continue }
            baselineDowntimes.append(value)
        }
        print("virsh one by one: \(destinations.count) migrations in \(format(baselineTime))")
        print("")
        print("| Measure | virtsync drain | one-by-one `virsh migrate` |")
        print("|---|---|---|")
        print("| Time to drain \(count) VMs | \(format(drainTime)) | \(format(baselineTime)) |")
        print("| Downtime per VM, median / max | \(stats(downtimes)) | \(stats(baselineDowntimes)) |")
        print("| Speed-up | \(String(format: "%.1f×", seconds(baselineTime) / max(0.001, seconds(drainTime)))) | 1× |")
        try? FileManager.default.removeItem(atPath: state)
    }

    static func format(_ d: Duration) -> String { String(format: "%.2f s", seconds(d)) }

    static func stats(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "not reported" }
        let sorted = values.sorted()
        return String(format: "%.0f / %.0f ms (n=%d)", sorted[sorted.count / 2], sorted.last ?? 0, sorted.count)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
