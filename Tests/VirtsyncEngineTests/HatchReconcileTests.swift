import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// A network's and a pool's raw XML through the engine: the inventory records the paths virtsync
/// wrote, so raw XML dropped from the spec is planned for removal, and then nothing.
@Suite("escape hatch of networks and pools through the engine")
struct HatchReconcileTests {
    private func withHatch(network: String?, pool: String?) -> DesiredState {
        var desired = lab()
        desired.hosts[0].networks[0].extraXML = network
        desired.hosts[0].pools[0].extraXML = pool
        return desired
    }

    /// Every `hatchPaths` of the host files of the inventory, by resource name.
    private func recorded(_ h: Harness) throws -> [String: [String]] {
        let dir = (h.stateDir as NSString).appendingPathComponent("hosts")
        var out: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: (dir as NSString).appendingPathComponent(file)))
            let entries = try JSONDecoder().decode(Inventory.HostEntries.self, from: data)
            for (name, e) in entries.networks { out["network \(name)"] = e.hatchPaths }
            for (name, e) in entries.pools { out["pool \(name)"] = e.hatchPaths }
        }
        return out
    }

    @Test("the inventory records raw XML paths; dropping them from the spec plans their removal, then nothing")
    func recordedAndRemoved() async throws {
        let h = try Harness()
        let with = withHatch(network: "<port isolated='yes'/><dns><txt name='x' value='y'/></dns>",
                             pool: "<target><permissions><mode>0711</mode></permissions></target>")
        let (_, report) = await h.apply(with)
        #expect(report.ok)
        #expect(try recorded(h) == ["network labnet": ["port", "dns/txt"], "pool lab": ["target/permissions"]])
        #expect(await h.plan(with).steps.isEmpty)

        let without = withHatch(network: "<dns><txt name='x' value='y'/></dns>", pool: nil)
        let plan = await h.plan(without)
        #expect(plan.steps.map(\.id) == ["update:pool:local/lab", "update:network:local/labnet"])
        #expect(plan.steps.flatMap(\.changes).map(\.field) == ["xml.pool/target/permissions", "xml.network/port"])
        #expect(plan.steps.flatMap(\.changes).allSatisfy { $0.after == nil && $0.disruption == .restart })
        let (_, second) = await h.apply(without)
        #expect(second.ok)
        #expect(try recorded(h) == ["network labnet": ["dns/txt"], "pool lab": nil].compactMapValues { $0 })
        #expect(await h.plan(without).steps.isEmpty)
    }
}
