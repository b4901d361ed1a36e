import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

@Suite("observing a host")
struct ObserveTests {
    @Test("observe lists every domain with its marker, state and live values, and unmanaged ones too")
    func domains() async throws {
        let session = try await Fixture.session(LibvirtSessionOptions(observeBatchSize: 2))
        for index in 0..<5 {
            let model = DomainModel(name: "vm-\(index)", vcpus: 1, maxVcpus: 2, memory: .mib(64), maxMemory: .mib(128))
            try await session.apply(Steps.domain(.create, model))
        }
        try await session.apply(Steps.domain(.start, named: "vm-1"))
        let host = try await session.observe(host: "h1")
        #expect(host.name == "h1")
        #expect(host.domains.keys.sorted() == ["legacy", "vm-0", "vm-1", "vm-2", "vm-3", "vm-4"])
        #expect(host.domains["legacy"]?.marker == nil)
        #expect(host.domains["legacy"]?.state == .running)
        #expect(host.domains["vm-0"]?.marker?.commit == Steps.marker.commit)
        #expect(host.domains["vm-0"]?.state == .shutoff)
        #expect(host.domains["vm-0"]?.live == nil)
        let running = try #require(host.domains["vm-1"])
        #expect(running.state == .running)
        #expect(running.live == LiveDomainValues(memory: .mib(64), maxMemory: .mib(128), vcpus: 1, maxVcpus: 2))
    }

    @Test("observe reports networks and pools with their active and autostart flags, unmanaged")
    func networksAndPools() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, Models.isolatedNetwork))
        try await session.apply(Steps.network(.stop, Models.isolatedNetwork))
        try await session.apply(Steps.pool(.create, Models.logicalPool))
        let host = try await session.observe(host: Steps.host)
        let network = try #require(host.networks[Models.isolatedNetwork.name])
        #expect(!network.active)
        #expect(!network.model.autostart)
        #expect(!network.managed)
        let pool = try #require(host.pools[Models.logicalPool.name])
        #expect(pool.active)
        #expect(!pool.model.autostart)
        #expect(!pool.managed)
    }

    @Test("pools of type iscsi, rbd and zfs made by someone else are observed with their sources, not skipped")
    func observedOnlyPoolTypes() async throws {
        let session = try await Fixture.session()
        for (_, model) in PoolTypesXMLTests.observed {
            // The test driver has no secrets: the pools are defined without their auth here.
            var plain = model
            plain.auth = nil
            try await session.apply(Steps.pool(.create, plain))
        }
        let host = try await session.observe(host: Steps.host)
        for (_, expected) in PoolTypesXMLTests.observed {
            let pool = try #require(host.pools[expected.name], "\(expected.type) pool observed")
            #expect(pool.model.type == expected.type)
            #expect(pool.model.sourceName == expected.sourceName && pool.model.devices == expected.devices
                    && pool.model.sourceHosts == expected.sourceHosts)
        }
    }

    @Test("volumes are listed for active pools only")
    func volumesOfActivePools() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        try await session.apply(Steps.volume(.create, Models.baseVolume))
        #expect(try await session.observe(host: Steps.host).volumes.keys.sorted() == [Models.baseVolume.key])
        try await session.apply(Steps.pool(.stop, Models.dirPool))
        #expect(try await session.observe(host: Steps.host).volumes.isEmpty)
    }

    @Test("an empty host observes as empty, apart from the fixture's unmanaged domain")
    func emptyHost() async throws {
        let host = try await Fixture.session().observe(host: Steps.host)
        #expect(host.networks.isEmpty)
        #expect(host.pools.isEmpty)
        #expect(host.volumes.isEmpty)
        #expect(host.domains.keys.sorted() == ["legacy"])
    }
}
