import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

@Suite("applying domain steps")
struct ApplyDomainTests {
    static let vm = DomainModel(name: "vm", vcpus: 1, maxVcpus: 4, memory: .mib(128), maxMemory: .mib(512),
                                interfaces: [InterfaceModel(source: .network("default"))], autostart: true)

    private func seen(_ session: LibvirtSession, _ name: String = vm.name) async throws -> ObservedDomain {
        try #require(try await session.observe(host: Steps.host).domains[name])
    }

    @Test("create defines the domain with the marker and autostart, and leaves it stopped")
    func create() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let domain = try await seen(session)
        #expect(domain.marker?.specDigest == Steps.marker.specDigest)
        #expect(domain.model.autostart)
        #expect(domain.state == .shutoff)
    }

    @Test("creating a domain that virtsync already defined succeeds (crash recovery)")
    func createTwice() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let first = try await seen(session)
        try await session.apply(Steps.domain(.create, Self.vm))
        let second = try await seen(session)
        #expect(first.uuid == second.uuid)
        #expect(first.model == second.model)
    }

    @Test("an update keeps the MAC libvirt generated when the spec leaves it open")
    func updateKeepsGeneratedMAC() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let before = try await seen(session)
        let mac = try #require(before.model.interfaces.first?.mac)
        var changed = Self.vm
        changed.memory = .mib(256)
        changed.vcpus = 2
        changed.graphics = .vnc
        try await session.apply(Steps.domain(.update, changed))
        let after = try await seen(session)
        #expect(after.model.interfaces.first?.mac == mac)
        #expect(after.uuid == before.uuid)
        #expect(after.model.memory == .mib(256))
        #expect(after.model.vcpus == 2)
        #expect(after.model.graphics == .vnc)
        #expect(after.model == changed.filled(from: after.model))
    }

    @Test("an update of a running domain applies memory and vCPU changes live")
    func updateLive() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        var changed = Self.vm
        changed.memory = .mib(256)
        changed.vcpus = 3
        try await session.apply(Steps.domain(.update, changed, live: [.setMemory(.mib(256)), .setVcpus(3)]))
        let domain = try await seen(session)
        #expect(domain.state == .running)
        #expect(domain.live?.memory == .mib(256))
        #expect(domain.live?.vcpus == 3)
        #expect(domain.model.memory == .mib(256))
    }

    @Test("a live link change reaches libvirt (the test driver refuses device updates)")
    func updateLink() async throws {
        // virDomainUpdateDeviceFlags is not in the test driver: the call is made and refused.
        // The system tests cover it against a real libvirtd.
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        let mac = try #require(try await seen(session).model.interfaces.first?.mac)
        let error = await expectHypervisorError(.rejected) {
            try await session.apply(Steps.domain(.update, Self.vm, live: [.setLink(mac: mac, up: false)]))
        }
        #expect(error?.libvirtCode == 3)
    }

    @Test("start, stop and restart change the run state; starting a running domain succeeds")
    func lifecycle() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        #expect(try await seen(session).state == .running)
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        try await session.apply(Steps.domain(.restart, named: Self.vm.name))
        #expect(try await seen(session).state == .running)
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
        #expect(try await seen(session).state == .shutoff)
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
    }

    @Test("stop with a shutdown timeout destroys a guest that does not shut down")
    func stopWithTimeout() async throws {
        let session = try await Fixture.session(LibvirtSessionOptions(shutdownTimeout: .milliseconds(300)))
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
        #expect(try await seen(session).state == .shutoff)
    }

    @Test("replace recreates the domain from the payload")
    func replace() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        var changed = Self.vm
        changed.uuid = "11111111-2222-3333-4444-555555555555"
        changed.interfaces = []
        try await session.apply(Steps.domain(.replace, changed))
        let domain = try await seen(session)
        #expect(domain.uuid == "11111111-2222-3333-4444-555555555555")
        #expect(domain.model.interfaces.isEmpty)
        #expect(domain.state == .shutoff)
    }

    @Test("replace keeps the UUID when the spec leaves it open")
    func replaceKeepsUUID() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let before = try await seen(session)
        var changed = Self.vm
        changed.cpuMode = .hostModel
        try await session.apply(Steps.domain(.replace, changed))
        let after = try await seen(session)
        #expect(after.uuid == before.uuid)
        #expect(after.model.cpuMode == .hostModel)
    }

    @Test("delete destroys and undefines the domain; deleting it again succeeds")
    func delete() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        try await session.apply(Steps.domain(.delete, named: Self.vm.name))
        #expect(try await session.observe(host: Steps.host).domains[Self.vm.name] == nil)
        try await session.apply(Steps.domain(.delete, named: Self.vm.name))
    }

    @Test("a domain without the ownership marker is never changed",
          arguments: [StepAction.update, .replace, .delete, .stop, .restart, .create])
    func refusesUnmarked(_ action: StepAction) async throws {
        let session = try await Fixture.session()
        let before = try await seen(session, "legacy")
        #expect(before.marker == nil)
        var model = Self.vm
        model.name = "legacy"
        let step = [.stop, .restart, .delete].contains(action) ? Steps.domain(action, named: "legacy") : Steps.domain(action, model)
        let error = await expectHypervisorError(.rejected) { try await session.apply(step) }
        #expect(error?.message.contains("not managed by virtsync") == true)
        let after = try await seen(session, "legacy")
        #expect(after == before)
    }

    @Test("updating or starting a domain that does not exist is .notFound with libvirt's code")
    func missing() async throws {
        let session = try await Fixture.session()
        var model = Self.vm
        model.name = "ghost"
        await expectHypervisorError(.notFound) { try await session.apply(Steps.domain(.update, model)) }
        let error = await expectHypervisorError(.notFound) { try await session.apply(Steps.domain(.start, named: "ghost")) }
        #expect(error?.libvirtCode == 42)
    }

    @Test("migration is refused as not supported")
    func migrate() async throws {
        let session = try await Fixture.session()
        await expectHypervisorError(.rejected) { try await session.apply(Steps.domain(.migrate, named: "legacy")) }
    }

    @Test("a step without its payload is an error, not a guess")
    func missingPayload() async throws {
        let session = try await Fixture.session()
        await expectHypervisorError(.other) { try await session.apply(Steps.domain(.create, named: "vm")) }
    }
}
