import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// Build → define in libvirt's test driver → read back → parse must give the model again, with
/// only the fields the spec leaves open filled in by libvirt.
@Suite("round trip through libvirt")
struct RoundTripTests {
    @Test("every domain model reads back equal, with only open fields filled", arguments: Models.domains.map(\.0))
    func domain(_ name: String) async throws {
        let model = try #require(Models.domains.first { $0.0 == name }?.1)
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, model))
        let observed = try await session.observe(host: Steps.host)
        let seen = try #require(observed.domains[model.name])
        #expect(seen.model == model.filled(from: seen.model))
        #expect(seen.marker == OwnershipMarker(specDigest: Steps.marker.specDigest, commit: Steps.marker.commit,
                                               extraDigest: model.extraXML.digest))
        #expect(seen.state == .shutoff)
        #expect(seen.live == nil)
        #expect(seen.persistent)
        // What libvirt filled in: the UUID, the ceilings equal to the current values, the MACs.
        #expect(seen.model.maxVcpus == (model.maxVcpus ?? model.vcpus))
        #expect(seen.model.maxMemory == (model.maxMemory ?? model.memory))
        for (wanted, got) in zip(model.interfaces, seen.model.interfaces) {
            if let mac = wanted.mac { #expect(got.mac == mac) } else { #expect(got.mac?.hasPrefix("52:54:00:") == true) }
        }
        if let uuid = model.uuid { #expect(seen.uuid == uuid) }
    }

    @Test("every network model reads back equal; an open bridge name is libvirt's", arguments: Models.networks.map(\.0))
    func network(_ name: String) async throws {
        let model = try #require(Models.networks.first { $0.0 == name }?.1)
        let session = try await Fixture.session()
        try await session.apply(Steps.network(.create, model))
        let seen = try #require(try await session.observe(host: Steps.host).networks[model.name])
        var expected = model
        expected.bridge = model.bridge ?? seen.model.bridge
        // Raw XML is read back as the definition's unowned elements, never into the model.
        expected.extraXML = nil
        #expect(seen.model == expected)
        #expect(seen.active)
        let leaves = Hatch.leaves(model.extraXML, in: .network)
        #expect(Hatch.paths(of: leaves).allSatisfy { path in
            Hatch.match(leaves.filter { $0.path == path }.map(\.node), in: (seen.hatch?.live ?? []).filter { $0.path == path }.map(\.node))
        }, "\(seen.hatch?.live ?? [])")
    }

    @Test("every pool model reads back equal", arguments: Models.pools.map(\.0))
    func pool(_ name: String) async throws {
        let model = try #require(Models.pools.first { $0.0 == name }?.1)
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, model))
        let seen = try #require(try await session.observe(host: Steps.host).pools[model.name])
        var expected = model
        expected.extraXML = nil
        // libvirt gives a zfs pool the target /dev/zvol/NAME; the planner does not compare it.
        if model.type == .zfs { expected.path = "/dev/zvol/\(model.sourceName ?? model.name)" }
        #expect(seen.model == expected)
        #expect(seen.active)
        let leaves = Hatch.leaves(model.extraXML, in: .pool)
        #expect(Hatch.paths(of: leaves).allSatisfy { path in
            Hatch.match(leaves.filter { $0.path == path }.map(\.node), in: (seen.hatch?.live ?? []).filter { $0.path == path }.map(\.node))
        }, "\(seen.hatch?.live ?? [])")
    }

    @Test("volumes read back with capacity, format and the backing store resolved to pool/volume")
    func volumes() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.pool(.create, Models.dirPool))
        for volume in [Models.baseVolume, Models.rawVolume, Models.overlayVolume, Models.cloneVolume, Models.hostileVolume] {
            try await session.apply(Steps.volume(.create, volume))
        }
        let seen = try await session.observe(host: Steps.host).volumes
        #expect(seen[Models.baseVolume.key]?.model == Models.baseVolume)
        #expect(seen[Models.rawVolume.key]?.model == Models.rawVolume)
        #expect(seen[Models.overlayVolume.key]?.model == Models.overlayVolume)
        #expect(seen[Models.hostileVolume.key]?.model == Models.hostileVolume)
        // A clone is a plain volume once made.
        var clone = Models.cloneVolume
        clone.source = .blank
        #expect(seen[clone.key]?.model == clone)
        #expect(seen[Models.baseVolume.key]?.path == "/var/lib/virtsync/images/debian-12.qcow2")
    }

    @Test("the domain type follows the host's capabilities")
    func domainType() {
        let kvm = """
        <capabilities><host><cpu><arch>x86_64</arch></cpu></host>
          <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/><domain type='kvm'/></arch></guest>
          <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
        </capabilities>
        """
        let tcg = """
        <capabilities><host><cpu><arch>x86_64</arch></cpu></host>
          <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/></arch></guest>
          <guest><os_type>hvm</os_type><arch name='aarch64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
        </capabilities>
        """
        #expect(LibvirtSession.domainType(capabilitiesXML: kvm) == "kvm")
        #expect(LibvirtSession.domainType(capabilitiesXML: tcg) == "qemu")
        #expect(LibvirtSession.domainType(capabilitiesXML: "not xml") == "qemu")
    }

    @Test("the test driver's capabilities choose the test domain type")
    func testDriverType() async throws {
        #expect(try await Fixture.session().domainType == "test")
    }
}
