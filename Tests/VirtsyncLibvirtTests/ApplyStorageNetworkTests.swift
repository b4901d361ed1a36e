import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

@Suite("applying network, pool and volume steps")
struct ApplyStorageNetworkTests {
    private func observe(_ session: LibvirtSession) async throws -> ObservedHost {
        try await session.observe(host: Steps.host)
    }

    @Test("a network is created started with autostart, and creating it again succeeds")
    func networkCreate() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, Models.natNetwork))
        try await session.apply(Steps.network(.create, Models.natNetwork))
        let network = try #require(try await observe(session).networks[Models.natNetwork.name])
        #expect(network.active)
        #expect(network.model.autostart)
    }

    @Test("an autostart-only network update keeps the network running under its UUID")
    func networkAutostartOnly() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, Models.natNetwork))
        let before = try #require(try await observe(session).networks[Models.natNetwork.name])
        var changed = Models.natNetwork
        changed.autostart = false
        try await session.apply(Steps.network(.update, changed))
        let after = try #require(try await observe(session).networks[Models.natNetwork.name])
        #expect(after.uuid == before.uuid)
        #expect(after.active)
        #expect(after.model.autostart == false)
    }

    @Test("a network update redefines it under the same UUID and starts it again", arguments: [StepAction.update, .replace])
    func networkUpdate(_ action: StepAction) async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, Models.natNetwork))
        let before = try #require(try await observe(session).networks[Models.natNetwork.name])
        var changed = Models.natNetwork
        changed.mode = .routed
        changed.ipv4?.dhcpEnd = "192.168.122.150"
        try await session.apply(Steps.network(action, changed))
        let after = try #require(try await observe(session).networks[Models.natNetwork.name])
        #expect(after.uuid == before.uuid)
        #expect(after.active)
        #expect(after.model.mode == .routed)
        #expect(after.model.ipv4?.dhcpEnd == "192.168.122.150")
    }

    @Test("a network is stopped, started and deleted; deleting it again succeeds")
    func networkLifecycle() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, Models.isolatedNetwork))
        try await session.apply(Steps.network(.stop, Models.isolatedNetwork))
        #expect(try await observe(session).networks[Models.isolatedNetwork.name]?.active == false)
        try await session.apply(Steps.network(.start, Models.isolatedNetwork))
        #expect(try await observe(session).networks[Models.isolatedNetwork.name]?.active == true)
        try await session.apply(Steps.remove(.network, Models.isolatedNetwork.name))
        #expect(try await observe(session).networks[Models.isolatedNetwork.name] == nil)
        try await session.apply(Steps.remove(.network, Models.isolatedNetwork.name))
    }

    @Test("a pool is created started with autostart; an update moves its path under the same UUID")
    func poolCreateUpdate() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        try await session.apply(Steps.pool(.create, Models.dirPool))
        let before = try #require(try await observe(session).pools[Models.dirPool.name])
        #expect(before.active)
        #expect(before.model.autostart)
        var changed = Models.dirPool
        changed.path = "/srv/images"
        try await session.apply(Steps.pool(.update, changed))
        let after = try #require(try await observe(session).pools[Models.dirPool.name])
        #expect(after.uuid == before.uuid)
        #expect(after.active)
        #expect(after.model == changed)
    }

    @Test("replace turns a pool into one of another type")
    func poolReplace() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        var netfs = Models.netfsPool
        netfs.name = Models.dirPool.name
        try await session.apply(Steps.pool(.replace, netfs))
        let after = try #require(try await observe(session).pools[netfs.name])
        #expect(after.model == netfs)
        #expect(after.active)
    }

    @Test("deleting a pool undefines it and keeps nothing running; deleting it again succeeds")
    func poolDelete() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.netfsPool))
        try await session.apply(Steps.remove(.pool, Models.netfsPool.name))
        #expect(try await observe(session).pools[Models.netfsPool.name] == nil)
        try await session.apply(Steps.remove(.pool, Models.netfsPool.name))
    }

    @Test("creating an existing volume succeeds when it matches and is refused when it does not")
    func volumeIdempotent() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        try await session.apply(Steps.volume(.create, Models.baseVolume))
        try await session.apply(Steps.volume(.create, Models.baseVolume))
        var bigger = Models.baseVolume
        bigger.capacity = .gib(20)
        await expectHypervisorError(.rejected) { try await session.apply(Steps.volume(.create, bigger)) }
        var raw = Models.baseVolume
        raw.format = .raw
        await expectHypervisorError(.rejected) { try await session.apply(Steps.volume(.create, raw)) }
    }

    @Test("an overlay over a missing base volume is .notFound")
    func overlayWithoutBase() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        await expectHypervisorError(.notFound) { try await session.apply(Steps.volume(.create, Models.overlayVolume)) }
    }

    @Test("a volume in a missing pool is .notFound")
    func volumeWithoutPool() async throws {
        let session = try await Fixture.session()
        await expectHypervisorError(.notFound) { try await session.apply(Steps.volume(.create, Models.baseVolume)) }
    }

    @Test("resizing reaches libvirt (the test driver refuses it); an unchanged size does nothing")
    func volumeResize() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        try await session.apply(Steps.volume(.create, Models.baseVolume))
        try await session.apply(Steps.volume(.update, Models.baseVolume))
        var bigger = Models.baseVolume
        bigger.capacity = .gib(4)
        let error = await expectHypervisorError(.rejected) { try await session.apply(Steps.volume(.update, bigger)) }
        #expect(error?.libvirtCode == 3)
        var qcowToRaw = Models.baseVolume
        qcowToRaw.format = .raw
        await expectHypervisorError(.rejected) { try await session.apply(Steps.volume(.update, qcowToRaw)) }
    }

    @Test("a volume whose upload fails is deleted again and reported incomplete (the test driver refuses uploads)")
    func generatedVolume() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        let error = await expectHypervisorError(.incomplete) { try await session.apply(Steps.volume(.create, Models.seedVolume)) }
        #expect(error?.libvirtCode == 3)
        #expect(error?.message.contains("the content did not arrive") == true)
        // Nothing half-made stays to be taken for the seed: the next pass makes it again.
        #expect(try await observe(session).volumes[Models.seedVolume.key] == nil)
    }

    @Test("a volume from an image that was not fetched is refused before anything is made")
    func imageNotFetched() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        let image = ImageSource(location: .url("http://127.0.0.1:9/x.qcow2"), sha256: String(repeating: "0", count: 64))
        let volume = VolumeModel(pool: "images", name: "from-image.qcow2", capacity: .gib(1), format: .qcow2, source: .image(image))
        await expectHypervisorError(.other) { try await session.apply(Steps.volume(.create, volume)) }
        #expect(try await observe(session).volumes[volume.key] == nil)
    }

    @Test("an image larger than the size the spec asks for is refused before anything is made")
    func imageLargerThanSize() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        let image = ImageSource(location: .url("http://127.0.0.1:9/x.qcow2"), sha256: String(repeating: "0", count: 64))
        var volume = VolumeModel(pool: "images", name: "from-image.qcow2", capacity: .gib(1), format: .qcow2, source: .image(image))
        volume.localImage = LocalImage(path: "/nonexistent", length: 1 << 20, virtualSize: 2 << 30)
        let error = await expectHypervisorError(.rejected) { try await session.apply(Steps.volume(.create, volume)) }
        #expect(error?.message.contains("the image's disk is 2GiB, larger than the size 1GiB the spec asks for") == true)
        #expect(try await observe(session).volumes[volume.key] == nil)
    }

    @Test("replace recreates a volume and delete removes it; deleting it again succeeds")
    func volumeReplaceDelete() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        try await session.apply(Steps.volume(.create, Models.rawVolume))
        var changed = Models.rawVolume
        changed.format = .qcow2
        try await session.apply(Steps.volume(.replace, changed))
        #expect(try await observe(session).volumes[changed.key]?.model == changed)
        try await session.apply(Steps.remove(.volume, changed.key))
        #expect(try await observe(session).volumes[changed.key] == nil)
        try await session.apply(Steps.remove(.volume, changed.key))
    }

    @Test("lifecycle actions on volumes are refused")
    func volumeLifecycle() async throws {
        let session = try await Fixture.session()
        let step = PlanStep(action: .start, resource: ResourceRef(kind: .volume, host: Steps.host, name: "a/b"),
                            disruption: .none, reason: "test")
        await expectHypervisorError(.rejected) { try await session.apply(step) }
    }
}
