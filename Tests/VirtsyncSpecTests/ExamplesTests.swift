import Foundation
import Testing
import VirtsyncCore
import VirtsyncSpec

@Suite("The examples")
struct ExamplesTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples")

    @Test("every example validates with no errors and no warnings", arguments: ["lab", "lab-secrets", "cluster", "cloud-image"])
    func validates(_ name: String) throws {
        let (files, read) = DirectorySource(root: Self.examples.appendingPathComponent(name).path).files()
        #expect(read.items.isEmpty, "\(read)")
        let result = SpecLoader.load(files: files)
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        #expect(result.desired != nil)
    }

    @Test("the lab teaches the format: NAT and isolated networks, an overlay, a seed, running and stopped VMs")
    func labCoversTheFormat() throws {
        let (files, _) = DirectorySource(root: Self.examples.appendingPathComponent("lab").path).files()
        let host = try #require(SpecLoader.load(files: files).desired?.hosts.first)
        #expect(Set(host.networks.map(\.mode)).isSuperset(of: [.nat, .isolated]))
        #expect(host.volumes.contains { if case .backing = $0.source { return true } else { return false } })
        #expect(host.volumes.contains { if case .generated = $0.source { return true } else { return false } })
        #expect(Set(host.domains.map(\.power)) == [.running, .stopped])
    }

    @Test("the cluster spreads VMs over three hosts with several networks and pools")
    func cluster() throws {
        let (files, _) = DirectorySource(root: Self.examples.appendingPathComponent("cluster").path).files()
        let desired = try #require(SpecLoader.load(files: files).desired).placed()
        #expect(desired.hosts.count == 3)
        #expect(desired.hosts.allSatisfy { !$0.domains.isEmpty && !$0.pools.isEmpty })
        #expect(Set(desired.hosts.flatMap { $0.networks.map(\.name) }).count >= 2)
    }
}
