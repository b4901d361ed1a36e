import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML
@testable import VirtsyncLibvirt

/// Disk options in libvirt XML: written, read back, kept by the merge, converged on the test driver.
@Suite("disk options in libvirt XML")
struct DiskOptionsXMLTests {
    static let options = DiskOptions(cache: .writeback, io: .threads, discard: .unmap, detectZeroes: .unmap, serial: "data-1",
                                     shareable: nil, iotune: IOTune(readBytesSec: 50 << 20, totalIopsSec: 500))
    static let vm = DomainModel(name: "tuned-disks", memory: .mib(64),
                                disks: [DiskModel(target: "vda", source: .file(path: "/srv/data.raw"), options: options),
                                        DiskModel(target: "vdb", source: .file(path: "/srv/plain.raw"))],
                                power: .stopped)

    @Test("the options are written into <driver>, <iotune> and <serial>, and read back as they were")
    func roundTrip() throws {
        let xml = LibvirtXML.domain(Self.vm, marker: Steps.marker, domainType: "kvm")
        Fixture.expectGolden("domain-disk-options", xml)
        let parsed = try LibvirtXML.parseDomain(xml)
        #expect(parsed.model.disks.map(\.options) == [Self.options, nil])
    }

    @Test("on the test driver the options converge: a second plan is empty; libvirt's own defaults are no drift")
    func converges() async throws {
        let run = try DriverRun()
        let desired = DesiredState(hosts: [DesiredHost(name: Steps.host, uri: Fixture.nodeURI, domains: [Self.vm])], specDigest: "d1sk")
        try await run.apply(desired)
        let second = await run.plan(desired)
        #expect(second.isEmpty, "\(second.steps.map { "\($0.id) \($0.changes)" })")
        var changed = desired
        changed.hosts[0].domains[0].disks[0].options?.iotune = IOTune(totalIopsSec: 800)
        let third = await run.plan(changed)
        #expect(third.steps.first?.changes.map(\.field) == ["disks[0]"], "\(third.steps)")
    }
}
