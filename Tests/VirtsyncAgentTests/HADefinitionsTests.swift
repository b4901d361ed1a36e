import Testing
import VirtsyncAgent
import VirtsyncCore

/// What HA may define on another host: never a VM whose secrets were not read.
@Suite("HA definitions")
struct HADefinitionsTests {
    static func desired(password: SecretMaterial?, held: Bool) -> DesiredState {
        let vm = DomainModel(name: "db", memory: .mib(64), graphics: .vnc, graphicsPassword: password)
        var state = DesiredState(hosts: [DesiredHost(name: "a"), DesiredHost(name: "b")], specDigest: "d",
                                 machines: [ClusterMachine(domain: vm, placement: DesiredPlacement(ha: true))])
        if held { state.held = [HeldResource(kind: .domain, name: "db", reason: "secret 'vnc': missing")] }
        return state
    }

    @Test("a held HA VM keeps the definition of the last pass that read its secrets, and has none before one did")
    func heldKeepsLast() {
        let definitions = HADefinitions()
        definitions.update(from: Self.desired(password: nil, held: true))
        #expect(definitions["db"] == nil)
        let password = SecretMaterial(name: "vnc", digest: "abc", value: SecretBytes(Array("pw".utf8)))
        definitions.update(from: Self.desired(password: password, held: false))
        #expect(definitions["db"]?.0.graphicsPassword == password)
        #expect(definitions["db"]?.1.graphicsPassword == "vnc:abc")
        definitions.update(from: Self.desired(password: nil, held: true))
        #expect(definitions["db"]?.0.graphicsPassword?.value?.bytes == Array("pw".utf8))
    }
}
