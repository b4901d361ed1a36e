import Testing
import VirtsyncCore

/// The consumers of secret objects: a volume's `pool/volume`, a VM's `DOMAIN:SECRET:TYPE` and a
/// pool's `pool(NAME):TYPE` can never be read as one another, even for a VM called `pool`.
@Suite("secret object consumers")
struct SecretConsumerTests {
    @Test("a pool's consumer names the pool and no VM")
    func poolConsumer() {
        let consumer = SecretObjectModel.consumer(pool: "ceph", type: "ceph")
        #expect(consumer == "pool(ceph):ceph")
        #expect(SecretObjectModel.pool(ofConsumer: consumer) == "ceph")
        #expect(SecretObjectModel.domain(ofConsumer: consumer) == nil)
    }

    @Test("a VM called pool keeps its consumers, which name no pool, and their UUIDs differ from the pool's")
    func vmCalledPool() {
        let vm = SecretObjectModel.consumer(domain: "pool", secret: "ceph", type: "ceph")
        #expect(vm == "pool:ceph:ceph")
        #expect(SecretObjectModel.domain(ofConsumer: vm) == "pool")
        #expect(SecretObjectModel.pool(ofConsumer: vm) == nil)
        #expect(SecretObjectModel.uuid(consumer: vm) != SecretObjectModel.uuid(consumer: SecretObjectModel.consumer(pool: "ceph", type: "ceph")))
    }

    @Test("a volume's consumer is neither a VM's nor a pool's", arguments: ["vms/data.raw", "pool/x", "pool(a)/b"])
    func volumeConsumer(_ consumer: String) {
        #expect(SecretObjectModel.domain(ofConsumer: consumer) == nil)
        #expect(SecretObjectModel.pool(ofConsumer: consumer) == nil)
    }

    @Test("the marker of a pool's object reads back with its consumer")
    func marker() throws {
        let consumer = SecretObjectModel.consumer(pool: "san", type: "iscsi")
        let object = SecretObjectModel(uuid: SecretObjectModel.uuid(consumer: consumer), consumer: consumer,
                                       usage: .named(type: "iscsi", id: "virtsync/pool:san"),
                                       secret: SecretMaterial(name: "chap", digest: "d1"), owner: "team a")
        let parsed = try #require(ObservedSecretObject.Marker(description: object.marker))
        #expect(parsed.consumer == consumer && parsed.owner == "team a" && parsed.secret == "chap")
        #expect(SecretObjectModel.pool(ofConsumer: parsed.consumer) == "san")
    }
}
