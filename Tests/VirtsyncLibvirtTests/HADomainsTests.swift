import CLibvirt
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// HA's libvirt port on the test driver: the epoch goes into the marker before a start, survives
/// a spec update, and only the owner's managed domains are seen or touched.
@Suite("HA domains")
struct HADomainsTests {
    static let vm = DomainModel(name: "ha-vm", vcpus: 1, memory: .mib(128), autostart: false)

    @Test("a start writes the epoch first; an update keeps it; a hard stop destroys; others' domains are invisible")
    func lifecycle() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let ha = LibvirtHADomains(session: session, owner: Steps.marker.owner)

        // A domain virtsync did not create (no marker), running.
        try await session.run("define plain") { call in
            let xml = "<domain type='test'><name>plain</name><memory>65536</memory><os><type>hvm</type></os></domain>"
            guard let domain = virDomainDefineXML(call.conn, xml) else { throw call.error("define plain") }
            defer { virDomainFree(domain) }
            try call.check(virDomainCreate(domain), "start plain")
        }
        #expect(try await ha.domains(["ha-vm", "plain", "absent"]) == ["ha-vm": HALocalDomain(running: false, epoch: nil)],
                "an unmanaged domain is not HA's")
        try await ha.start(vm: "ha-vm", epoch: 42)
        #expect(try await ha.domains(["ha-vm"]) == ["ha-vm": HALocalDomain(running: true, epoch: 42)])
        await #expect(throws: HypervisorError.self, "a second start of a running copy is refused") {
            try await ha.start(vm: "ha-vm", epoch: 43)
        }

        // A spec update (another memory size) keeps the epoch: only HA writes it.
        var changed = Self.vm
        changed.memory = .mib(256)
        try await session.apply(Steps.domain(.update, changed))
        #expect(try await ha.domains(["ha-vm"])["ha-vm"]?.epoch == 42)

        try await ha.hardStop(vm: "ha-vm")
        #expect(try await ha.domains(["ha-vm"]) == ["ha-vm": HALocalDomain(running: false, epoch: 42)])
        try await ha.hardStop(vm: "ha-vm")  // stopping a stopped copy is fine

        // Another owner's view sees nothing, and cannot start it.
        let other = LibvirtHADomains(session: session, owner: "team-b")
        #expect(try await other.domains(["ha-vm"]).isEmpty)
        await #expect(throws: HypervisorError.self) { try await other.start(vm: "ha-vm", epoch: 50) }
        // An unmanaged domain is refused.
        await #expect(throws: HypervisorError.self) { try await ha.hardStop(vm: "plain") }
        await #expect(throws: HypervisorError.self) { try await ha.start(vm: "plain", epoch: 1) }
    }
}
