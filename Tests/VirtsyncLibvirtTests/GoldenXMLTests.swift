import Testing
import VirtsyncCore
@testable import VirtsyncLibvirt

/// The XML virtsync writes, reviewed as golden files (`VIRTSYNC_RECORD=1` re-records them).
@Suite("generated XML")
struct GoldenXMLTests {
    static let marker = OwnershipMarker(specDigest: "5p3cd1g", commit: "c0mm1t")

    @Test("each domain model renders to its golden XML", arguments: Models.domains.map(\.0))
    func domain(_ name: String) throws {
        let model = try #require(Models.domains.first { $0.0 == name }?.1)
        var marker = Self.marker
        marker.extraDigest = model.extraXML.digest
        let formats: [String: VolumeFormat] = ["images/web-1-root.qcow2": .qcow2, "p&<'\">/v&<'\">.qcow2": .qcow2]
        Fixture.expectGolden(name, LibvirtXML.domain(model, marker: marker, domainType: "kvm", volumeFormats: formats))
    }

    @Test("each network model renders to its golden XML", arguments: Models.networks.map(\.0))
    func network(_ name: String) throws {
        let model = try #require(Models.networks.first { $0.0 == name }?.1)
        Fixture.expectGolden(name, LibvirtXML.network(model))
    }

    @Test("each pool model renders to its golden XML", arguments: Models.pools.map(\.0))
    func pool(_ name: String) throws {
        let model = try #require(Models.pools.first { $0.0 == name }?.1)
        Fixture.expectGolden(name, LibvirtXML.pool(model))
    }

    @Test("volumes render with capacity in bytes, their format and a resolved backing store")
    func volumes() {
        Fixture.expectGolden("volume-blank", LibvirtXML.volume(Models.baseVolume))
        Fixture.expectGolden("volume-raw", LibvirtXML.volume(Models.rawVolume))
        Fixture.expectGolden("volume-backing", LibvirtXML.volume(
            Models.overlayVolume, backing: LibvirtXML.BackingStore(path: "/var/lib/virtsync/images/debian-12.qcow2", format: .qcow2)))
        Fixture.expectGolden("volume-iso", LibvirtXML.volume(Models.seedVolume))
        Fixture.expectGolden("volume-logical", LibvirtXML.volume(Models.rawVolume, poolType: .logical))
        Fixture.expectGolden("volume-rbd", LibvirtXML.volume(Models.rawVolume, poolType: .rbd))
        Fixture.expectGolden("volume-hostile", LibvirtXML.volume(Models.hostileVolume))
    }

    @Test("a redefinition keeps the existing UUID")
    func redefinitionUUID() {
        Fixture.expectGolden("network-redefine", LibvirtXML.network(Models.bridgeNetwork, uuid: "0b7a4e4c-7a1d-4f7e-9d43-3f3c1c9f0a11"))
        Fixture.expectGolden("pool-redefine", LibvirtXML.pool(Models.dirPool, uuid: "6f1b8f60-1f5c-4f1e-8d0e-6a3d0c2b9e44"))
    }

    @Test("an update keeps libvirt's details and replaces only the owned elements")
    func updateMerge() throws {
        var model = Models.fullDomain
        model.memory = .mib(768)
        model.vcpus = 3
        model.interfaces[1].linkUp = true
        model.graphics = .spice
        model.extraXML = ExtraXML(devices: "<watchdog model='i6300esb' action='reset'/>")
        var marker = Self.marker
        marker.extraDigest = model.extraXML.digest
        let merged = try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model, marker: marker,
                                                  volumeFormats: ["images/web-1-root.qcow2": .qcow2])
        Fixture.expectGolden("domain-update-merge", merged)
    }

    @Test("hostile strings are escaped everywhere and parse back unchanged")
    func hostileEscaping() throws {
        let xml = LibvirtXML.domain(Models.hostileDomain, marker: Self.marker, domainType: "kvm")
        #expect(!xml.contains("o'brien&<"))
        #expect(xml.contains("o&apos;brien&amp;&lt;co&gt;&quot;x&quot;"))
        let parsed = try LibvirtXML.parseDomain(xml)
        #expect(parsed.model.name == Models.hostileDomain.name)
        #expect(parsed.model.disks == Models.hostileDomain.disks)
        #expect(parsed.model.interfaces == Models.hostileDomain.interfaces)
        #expect(parsed.model.loader == Models.hostileDomain.loader)
        let network = try LibvirtXML.parseNetwork(LibvirtXML.network(Models.hostileNetwork))
        #expect(network.model.name == Models.hostileNetwork.name)
        #expect(network.model.ipv4 == Models.hostileNetwork.ipv4)
        let pool = try LibvirtXML.parsePool(LibvirtXML.pool(Models.hostilePool))
        #expect(pool.model.name == Models.hostilePool.name)
        #expect(pool.model.path == Models.hostilePool.path)
    }
}
