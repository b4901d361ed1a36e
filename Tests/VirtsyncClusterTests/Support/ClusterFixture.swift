import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncLibvirt
import VirtsyncSpec
import VirtsyncTestSupport

/// A spec over a testbed's hosts, read by the real loader, and a reconciler over libvirt: what
/// `virtsync plan` and `apply` do, in process, so tests can read step results (downtimes).
struct ClusterFixture {
    let testbed: Testbed
    let workflow: ApplyWorkflow
    var reconciler: Reconciler { workflow.reader }
    let stateDirectory: String

    init(testbed: Testbed) throws {
        self.testbed = testbed
        stateDirectory = NSTemporaryDirectory() + "virtsync-cluster-\(UUID().uuidString)"
        // Keepalive and short deadlines, as for a cluster: a dead peer costs seconds.
        let options = LibvirtSessionOptions(connectTimeout: .seconds(5), callTimeout: .seconds(20))
        workflow = ApplyWorkflow(connector: LibvirtConnector(options: options), inventory: try InventoryStore(stateDirectory: stateDirectory))
    }

    /// Host documents for every testbed host (`maintenance` for those named), the `lan`
    /// network on `networkHosts` (all by default), migration settings, then `extra` documents.
    func spec(maintenance: Set<String> = [], networkHosts: [String]? = nil, migration: String = "", _ extra: [String]) -> String {
        var documents = testbed.hosts.map { host in
            """
            apiVersion: virtsync/v1
            kind: Host
            name: \(host.name)
            uri: "\(host.uri)"
            migrationURI: "\(host.peerURI)"
            maintenance: \(maintenance.contains(host.name))

            """
        }
        let lanHosts = networkHosts ?? testbed.hosts.map(\.name)
        documents.append("""
            apiVersion: virtsync/v1
            kind: Network
            name: lan
            hosts: [\(lanHosts.joined(separator: ", "))]
            mode: isolated
            autostart: false

            """)
        documents.append("""
            apiVersion: virtsync/v1
            kind: Settings
            migration:
              allowUnsafe: true
              maxDowntime: 100ms
              timeout: 2m
            \(migration.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

            """)
        return (documents + extra).joined(separator: "---\n")
    }

    /// A tiny VM (no disk, qboot, 64 MiB) on `lan`, pinned (`host`) or placed (`placement` YAML).
    static func vm(_ name: String, host: String? = nil, placement: String? = nil) -> String {
        var text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(name)
            vcpus: 1
            memory: 64MiB
            machine: pc
            loader: /usr/share/qemu/qboot.rom
            power: running
            interfaces:
              - network: lan

            """
        if let host { text += "host: \(host)\n" }
        if let placement { text += "placement:\n" + placement.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n" }
        return text
    }

    func desired(_ text: String) throws -> DesiredState {
        let result = SpecLoader.load(files: [SpecFile(path: "cluster.yaml", bytes: Array(text.utf8))])
        return try #require(result.desired, "\(result.diagnostics)")
    }

    func plan(_ desired: DesiredState, prune: Bool = true) async -> (Plan, [String: any HypervisorReadSession]) {
        let (sessions, _, observed) = await reconciler.read(desired)
        return (await reconciler.plan(desired, observed: observed, options: PlanOptions(prune: prune)), sessions)
    }

    @discardableResult
    func apply(_ desired: DesiredState, prune: Bool = true) async throws -> (Plan, ApplyReport) {
        let outcome = try await workflow.apply(desired, options: PlanOptions(prune: prune))
        if let refusal = outcome.refusal { throw refusal }
        return (outcome.plan, outcome.report ?? ApplyReport(results: []))
    }

    /// `virsh domstate --reason` of a domain on a host, or nil when it is not defined there.
    func state(_ domain: String, on host: String) -> String? {
        guard let out = try? testbed.virsh(testbed.host(host), ["domstate", "--reason", domain]) else { return nil }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func domains(on host: String) -> Set<String> {
        let out = (try? testbed.virsh(testbed.host(host), ["list", "--all", "--name"])) ?? ""
        return Set(out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}
