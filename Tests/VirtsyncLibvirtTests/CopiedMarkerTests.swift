import Testing
import VirtsyncCore
@testable import VirtsyncLibvirt

@Suite("Copied ownership markers")
struct CopiedMarkerTests {
    @Test("a copy of a managed domain under another name (virt-clone, dumpxml | define) is not managed")
    func copyIsUnmanaged() throws {
        let model = DomainModel(name: "web-1", memory: .mib(64))
        let xml = LibvirtXML.domain(model, marker: OwnershipMarker(specDigest: "d"), domainType: "kvm", volumeFormats: [:])
        #expect(try LibvirtXML.parseDomain(xml).marker != nil)
        let copy = xml.replacingOccurrences(of: "<name>web-1</name>", with: "<name>web-1-debug</name>")
        #expect(copy != xml)
        #expect(try LibvirtXML.parseDomain(copy).marker == nil)
    }
}
